/**
 * A test double of a Sibyl server for the CLI's tests: the management API and the inference API on
 * two real HTTP listeners, implementing the documented contract in memory for the routes the CLI
 * calls. It records every request, and hashes uploads as they stream in, so tests can check what
 * arrived on the wire.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AuditEvent, Model, Pool, Route, Traffic, Version } from './wire-types.js';

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  /** JSON bodies as text; uploads are not kept (see `uploads`). */
  readonly body: string;
}

export interface ReceivedUpload {
  readonly model: string;
  readonly filename: string | null;
  /** What the client claimed in ?sha256=. */
  readonly claimedSha256: string | null;
  /** What the server computed from the bytes received. */
  readonly sha256: string;
  readonly size: number;
  readonly contentLength: string | undefined;
  readonly chunks: number;
}

export interface FakeSibyl {
  readonly managementUrl: string;
  readonly inferenceUrl: string;
  readonly requests: RecordedRequest[];
  readonly uploads: ReceivedUpload[];
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const NOW = '2025-01-02T03:04:05.000Z';
/** Uploads declared larger than this are refused at once with 413. */
export const MAX_UPLOAD_BYTES = 64 * 1024 * 1024;
const IRIS_SIGNATURE = {
  platform: 'onnxruntime_onnx',
  inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 4] }],
  outputs: [
    { name: 'probabilities', datatype: 'FP32', shape: [-1, 3] },
    { name: 'label', datatype: 'INT64', shape: [-1] },
  ],
};

async function readText(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export async function startFakeSibyl(): Promise<FakeSibyl> {
  const models = new Map<string, Model>();
  const versions = new Map<string, Version[]>();
  const events: AuditEvent[] = [];
  const requests: RecordedRequest[] = [];
  const uploads: ReceivedUpload[] = [];

  const audit = (req: IncomingMessage, model: string, action: string, from: unknown, to: unknown) =>
    events.push({ id: events.length + 1, at: NOW, actor: String(req.headers['x-sibyl-actor'] ?? 'anonymous'), action, model, from, to, detail: null });
  const model = (name: string) => {
    const m = models.get(name);
    if (m === undefined) throw new HttpError(404, `model '${name}' not found`);
    return m;
  };
  const version = (name: string, v: string) => {
    const found = versions.get(model(name).name)?.find((x) => x.version === Number(v));
    if (found === undefined) throw new HttpError(404, `model '${name}' has no version ${v}`);
    return found;
  };
  const release = (m: Model) => ({ model: m.name, live_version: m.live_version, previous_version: m.previous_version });
  // Routing, with the defaults a fresh server has.
  const pools = new Map<string, Pool>([
    ['onnx', { name: 'onnx', kind: 'sibyl-onnx', endpoints: [], discovery: true, description: 'ONNX workers (onnxruntime-node)', created_at: NOW, updated_at: NOW }],
    ['tf', { name: 'tf', kind: 'sibyl-tf', endpoints: [], discovery: true, description: 'TensorFlow.js workers', created_at: NOW, updated_at: NOW }],
  ]);
  const routes: Route[] = [
    { id: 1, priority: 1000, match: { platform: 'onnxruntime_onnx' }, pool: 'onnx', description: 'Default: ONNX models', created_at: NOW, updated_at: NOW },
    { id: 2, priority: 1010, match: { platform: 'tensorflowjs_*' }, pool: 'tf', description: 'Default: TensorFlow.js models', created_at: NOW, updated_at: NOW },
  ];
  const traffic = new Map<string, Pick<Traffic, 'canary_version' | 'canary_weight' | 'shadow_version'>>();
  const pool = (name: string) => {
    const p = pools.get(name);
    if (p === undefined) throw new HttpError(404, `pool '${name}' does not exist`);
    return p;
  };
  const rule = (id: string) => {
    const r = routes.find((x) => x.id === Number(id));
    if (r === undefined) throw new HttpError(404, `routing rule ${id} does not exist`);
    return r;
  };
  const sorted = () => [...routes].sort((a, b) => a.priority - b.priority || a.id - b.id);
  const glob = (pattern: string, text: string) =>
    new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`).test(text);
  const trafficOf = (m: Model): Traffic => ({ model: m.name, live_version: m.live_version, canary_version: null, canary_weight: 0, shadow_version: null, ...traffic.get(m.name) });

  async function management(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const parts = url.pathname.split('/').slice(1).map(decodeURIComponent);
    const route = `${req.method} /${parts.map((p, i) => (i === 2 || i === 4 ? ':' : p)).join('/')}`;
    const [, , name = '', , v = ''] = parts;
    if (route === 'POST /v1/models/:/versions') {
      const m = model(name);
      // Answers before reading the body, as a server does for a declared length past its limit
      // (node:http then reads and drops the rest, so the answer is not lost to a reset).
      if (Number(req.headers['content-length']) > MAX_UPLOAD_BYTES) {
        throw new HttpError(413, `upload of ${req.headers['content-length']} bytes is larger than the limit of ${MAX_UPLOAD_BYTES} bytes`);
      }
      const hash = createHash('sha256');
      let size = 0;
      let chunks = 0;
      for await (const chunk of req) {
        hash.update(chunk as Buffer);
        size += (chunk as Buffer).length;
        chunks += 1;
      }
      const sha256 = hash.digest('hex');
      const claimed = url.searchParams.get('sha256');
      uploads.push({ model: name, filename: url.searchParams.get('filename'), claimedSha256: claimed, sha256, size, contentLength: req.headers['content-length'], chunks });
      requests.push({ method: req.method!, url: req.url!, headers: req.headers, body: '' });
      if (claimed !== null && claimed !== sha256) throw new HttpError(400, `checksum mismatch: expected ${claimed}, received ${sha256}`);
      const list = versions.get(name) ?? [];
      const created: Version = {
        model: name,
        version: list.length + 1,
        sha256,
        size,
        filename: url.searchParams.get('filename') ?? 'model',
        format: 'onnx',
        state: 'ready',
        state_reason: null,
        signature: IRIS_SIGNATURE,
        created_by: String(req.headers['x-sibyl-actor'] ?? 'anonymous'),
        created_at: NOW,
      };
      versions.set(name, [...list, created]);
      audit(req, m.name, 'version.created', null, created.version);
      send(res, 201, created);
      return;
    }
    const text = await readText(req);
    requests.push({ method: req.method!, url: req.url!, headers: req.headers, body: text });
    const body = (text === '' ? {} : JSON.parse(text)) as Record<string, unknown>;
    if (req.method === 'GET' && parts.length === 4 && parts[1] === 'routes' && name === 'explain') {
      const m = model(parts[3]!);
      const number = url.searchParams.has('version') ? Number(url.searchParams.get('version')) : m.live_version;
      if (number === null) throw new HttpError(409, `model '${m.name}' has no live version; name the version to explain with ?version=N`);
      const platform = version(m.name, String(number)).signature?.platform ?? '';
      const rules = sorted().map((r) => {
        const pattern = r.match?.platform;
        if (pattern === undefined) return { route: r, matched: true, reasons: ['empty match: matches every version'] };
        const matched = glob(pattern, platform);
        return { route: r, matched, reasons: [`platform '${platform}' ${matched ? 'matches' : 'does not match'} '${pattern}'`] };
      });
      const winner = rules.find((r) => r.matched)?.route ?? null;
      return send(res, 200, { model: m.name, version: number, facts: { name: m.name, version: number, platform }, route: winner, pool: winner?.pool ?? null, rules });
    }
    switch (route) {
      case 'GET /v1/status':
        return send(res, 200, { name: 'sibyl', version: '0.1.0', ready: true, models: models.size, versions_ready: [...versions.values()].flat().filter((x) => x.state === 'ready').length });
      case 'GET /v1/models':
        return send(res, 200, { models: [...models.values()] });
      case 'POST /v1/models': {
        if (typeof body['name'] !== 'string') throw new HttpError(400, "missing required field 'name'");
        if (models.has(body['name'])) throw new HttpError(409, `model '${body['name']}' already exists`);
        const created: Model = {
          name: body['name'],
          tenant: (body['tenant'] as string | undefined) ?? 'default',
          platform: (body['platform'] as string | undefined) ?? null,
          algorithm: (body['algorithm'] as string | undefined) ?? null,
          description: (body['description'] as string | undefined) ?? '',
          labels: (body['labels'] as Record<string, string> | undefined) ?? {},
          live_version: null,
          previous_version: null,
          created_at: NOW,
          updated_at: NOW,
        };
        models.set(created.name, created);
        audit(req, created.name, 'model.created', null, null);
        return send(res, 201, created);
      }
      case 'GET /v1/models/:':
        return send(res, 200, model(name));
      case 'DELETE /v1/models/:': {
        const m = model(name);
        if (m.live_version !== null) throw new HttpError(409, `model '${name}' has live version ${m.live_version}; roll it out first`);
        models.delete(name);
        return send(res, 204);
      }
      case 'GET /v1/models/:/versions':
        return send(res, 200, { versions: versions.get(model(name).name) ?? [] });
      case 'GET /v1/models/:/versions/:':
        return send(res, 200, version(name, v));
      case 'DELETE /v1/models/:/versions/:': {
        const found = version(name, v);
        if (model(name).live_version === found.version) throw new HttpError(409, `version ${v} of '${name}' is live`);
        found.state = 'retired';
        audit(req, name, 'version.retired', found.version, null);
        return send(res, 200, found);
      }
      case 'POST /v1/models/:/deploy': {
        const m = model(name);
        const target = version(name, String(body['version']));
        if (target.state === 'retired') throw new HttpError(409, `version ${target.version} of '${name}' is retired`);
        audit(req, name, 'deploy', m.live_version, target.version);
        m.previous_version = m.live_version;
        m.live_version = target.version;
        return send(res, 200, release(m));
      }
      case 'POST /v1/models/:/rollback': {
        const m = model(name);
        if (m.previous_version === null) throw new HttpError(409, `model '${name}' has no previous version to roll back to`);
        audit(req, name, 'rollback', m.live_version, m.previous_version);
        [m.live_version, m.previous_version] = [m.previous_version, m.live_version];
        return send(res, 200, release(m));
      }
      case 'GET /v1/pools':
        return send(res, 200, { pools: [...pools.values()].sort((a, b) => (a.name < b.name ? -1 : 1)) });
      case 'POST /v1/pools': {
        const name = String(body['name']);
        if (pools.has(name)) throw new HttpError(409, `pool '${name}' already exists`);
        const created: Pool = { name, kind: String(body['kind']), endpoints: (body['endpoints'] as string[]) ?? [], discovery: body['discovery'] === true, description: (body['description'] as string) ?? '', created_at: NOW, updated_at: NOW };
        pools.set(name, created);
        return send(res, 201, created);
      }
      case 'GET /v1/pools/:':
        return send(res, 200, pool(name));
      case 'PATCH /v1/pools/:': {
        const p = pool(name);
        if (body['endpoints'] !== undefined) [p.endpoints, p.discovery] = [body['endpoints'] as string[], false];
        if (body['discovery'] === true) [p.endpoints, p.discovery] = [[], true];
        if (body['description'] !== undefined) p.description = body['description'] as string;
        return send(res, 200, p);
      }
      case 'DELETE /v1/pools/:': {
        pool(name);
        const users = routes.filter((r) => r.pool === name).map((r) => r.id);
        if (users.length > 0) throw new HttpError(409, `pool '${name}' is named by routing rules ${users.join(', ')}; change or delete them first`);
        pools.delete(name);
        return send(res, 204);
      }
      case 'GET /v1/routes':
        return send(res, 200, { routes: sorted() });
      case 'POST /v1/routes': {
        pool(String(body['pool']));
        const created: Route = { id: Math.max(0, ...routes.map((r) => r.id)) + 1, priority: body['priority'] as number, pool: String(body['pool']), match: (body['match'] as Route['match']) ?? {}, description: (body['description'] as string) ?? '', created_at: NOW, updated_at: NOW };
        routes.push(created);
        return send(res, 201, created);
      }
      case 'GET /v1/routes/:':
        return send(res, 200, rule(name));
      case 'PATCH /v1/routes/:': {
        const r = rule(name);
        if (body['pool'] !== undefined) r.pool = pool(String(body['pool'])).name;
        for (const field of ['priority', 'match', 'description'] as const) if (body[field] !== undefined) (r as unknown as Record<string, unknown>)[field] = body[field];
        return send(res, 200, r);
      }
      case 'DELETE /v1/routes/:':
        routes.splice(routes.indexOf(rule(name)), 1);
        return send(res, 204);
      case 'GET /v1/models/:/traffic':
        return send(res, 200, trafficOf(model(name)));
      case 'PUT /v1/models/:/traffic': {
        const m = model(name);
        const next = { ...trafficOf(m) };
        if (body['canary_version'] !== undefined) next.canary_version = body['canary_version'] as number | null;
        if (body['canary_weight'] !== undefined) next.canary_weight = body['canary_weight'] as number;
        if (body['shadow_version'] !== undefined) next.shadow_version = body['shadow_version'] as number | null;
        if (next.canary_version === null) next.canary_weight = 0;
        for (const [role, v] of [['canary', next.canary_version], ['shadow', next.shadow_version]] as const) {
          if (v !== null && v === m.live_version) throw new HttpError(409, `version ${v} of model '${name}' cannot be the ${role}: it is the live version`);
          if (v !== null) version(name, String(v));
        }
        traffic.set(name, { canary_version: next.canary_version, canary_weight: next.canary_weight, shadow_version: next.shadow_version });
        return send(res, 200, next);
      }
      case 'GET /v1/models/:/events':
        return send(res, 200, { events: events.filter((e) => e.model === model(name).name) });
      default:
        throw new HttpError(404, `no route ${req.method} ${url.pathname}`);
    }
  }

  async function inference(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const text = await readText(req);
    requests.push({ method: req.method!, url: req.url!, headers: req.headers, body: text });
    const match = /^\/v2\/models\/([^/]+)(?:\/versions\/([0-9]+))?(\/infer)?$/.exec(url.pathname);
    const name = decodeURIComponent(match?.[1] ?? '');
    if (match === null || name !== 'iris') throw new HttpError(404, `Request for unknown model: '${name}' is not found`);
    const versionText = match[2] ?? '2';
    if (match[3] === undefined) {
      if (req.method !== 'GET') throw new HttpError(405, 'method not allowed');
      return send(res, 200, { name, versions: ['1', '2'], platform: 'onnxruntime_onnx', inputs: IRIS_SIGNATURE.inputs, outputs: IRIS_SIGNATURE.outputs });
    }
    const request = JSON.parse(text) as { inputs: { shape: number[] }[] };
    const batch = request.inputs[0]?.shape[0] ?? 1;
    return send(res, 200, {
      model_name: name,
      model_version: versionText,
      outputs: [
        { name: 'probabilities', datatype: 'FP32', shape: [batch, 3], data: Array.from({ length: batch * 3 }, (_, i) => (i % 3 === 0 ? 0.9999557733535767 : 0.0000221)) },
        { name: 'label', datatype: 'INT64', shape: [batch], data: Array.from({ length: batch }, () => 0) },
      ],
    });
  }

  const handler = (api: typeof management) => (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    api(req, res, url).catch((err: unknown) => {
      if (res.headersSent) return;
      if (err instanceof HttpError) send(res, err.status, { error: err.message });
      else send(res, 500, { error: `fake server failure: ${(err as Error).message}` });
    });
  };
  const managementServer = createServer(handler(management));
  const inferenceServer = createServer(handler(inference));
  const [managementUrl, inferenceUrl] = await Promise.all([listen(managementServer), listen(inferenceServer)]);
  return {
    managementUrl,
    inferenceUrl,
    requests,
    uploads,
    async close() {
      for (const server of [managementServer, inferenceServer]) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    },
  };
}
