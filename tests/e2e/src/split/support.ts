/**
 * What the split-topology tests share: a scratch PostgreSQL database and Redis database per file, the
 * management API, the workers' Prometheus counters (which worker served), inference over the gateway,
 * and steady load from several clients. The cluster itself comes from scripts/cluster (imported by
 * the test files, which tsc's e2e project leaves out; this file only sees URLs).
 */
import { randomBytes } from 'node:crypto';
import { openDb } from '@sibyl/registry';
import { buildOnnxModel } from '@sibyl/testkit';
import { httpRequest, type HttpAnswer } from '../harness/http.js';
import { redisCommand, redisUrlWithDb } from '../harness/redis-command.js';
import type { InferenceClient, Message } from '../harness/grpc-client.js';

export const DATABASE_URL = process.env['DATABASE_URL'] ?? '';
export const REDIS_URL = process.env['REDIS_URL'] ?? '';
/** The split topology needs both; without them the split suites are skipped (and say so). */
export const SPLIT_SKIP = DATABASE_URL === '' || REDIS_URL === '';
if (SPLIT_SKIP) console.warn('split-topology tests skipped: DATABASE_URL and REDIS_URL must both be set');

// ---- scratch state ---------------------------------------------------------------------------------

async function admin(sql: string): Promise<void> {
  const db = await openDb({ databaseUrl: DATABASE_URL, poolSize: 1 });
  try {
    await db.exec(sql);
  } finally {
    await db.close();
  }
}

export interface ScratchDatabase {
  readonly name: string;
  readonly url: string;
  drop(): Promise<void>;
}

/** A fresh PostgreSQL database on DATABASE_URL's server, dropped (with its sessions) by drop(). */
export async function scratchDatabase(): Promise<ScratchDatabase> {
  const name = `sibyl_split_${randomBytes(6).toString('hex')}`;
  await admin(`CREATE DATABASE "${name}"`);
  const url = new URL(DATABASE_URL);
  url.pathname = `/${name}`;
  return { name, url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`) };
}

/**
 * A Redis database of its own on REDIS_URL's server: a random index from 1 to 15 (0 is what people
 * use by hand), emptied first. Two files running at once could draw the same index; 1 in 15.
 */
export async function scratchRedis(): Promise<string> {
  const url = redisUrlWithDb(REDIS_URL, 1 + Math.floor(Math.random() * 15));
  await redisCommand(url, 'FLUSHDB');
  return url;
}

/** The instance records workers keep in Redis (any key prefix): parsed JSON of every `*instance:*` string key. */
export async function registeredInstances(redisUrl: string): Promise<Array<Record<string, unknown>>> {
  const keys = (await redisCommand(redisUrl, 'KEYS', '*instance:*')) as string[];
  const out: Array<Record<string, unknown>> = [];
  for (const key of keys) {
    const type = await redisCommand(redisUrl, 'TYPE', key);
    if (type !== 'string') continue;
    const value = await redisCommand(redisUrl, 'GET', key);
    if (typeof value !== 'string') continue;
    try {
      out.push(JSON.parse(value) as Record<string, unknown>);
    } catch {
      // not an instance record
    }
  }
  return out;
}

// ---- models ------------------------------------------------------------------------------------------

/** y = x + k over FP32 [1]: an answer tells which version (or model) computed it. */
export function addK(name: string, k: number): Uint8Array {
  return buildOnnxModel({
    name,
    inputs: [{ name: 'x', datatype: 'FP32', shape: [1] }],
    outputs: [{ name: 'y', datatype: 'FP32', shape: [1] }],
    initializers: [{ name: 'k', datatype: 'FP32', dims: [1], values: new Float32Array([k]) }],
    nodes: [{ op: 'Add', inputs: ['x', 'k'], outputs: ['y'] }],
  });
}

/**
 * A model whose cost the request chooses: `x` FP32 [1] is expanded to an n×n matrix (`n` INT64 [2]
 * is the shape), multiplied by itself and summed, so `y` = x²·n³ and a request runs for as long as n
 * makes it (tens of milliseconds at 600, about a second at 2000 on this machine).
 */
export function slowModel(name: string): Uint8Array {
  return buildOnnxModel({
    name,
    inputs: [
      { name: 'x', datatype: 'FP32', shape: [1] },
      { name: 'n', datatype: 'INT64', shape: [2] },
    ],
    outputs: [{ name: 'y', datatype: 'FP32', shape: [1, 1] }],
    nodes: [
      { op: 'Expand', inputs: ['x', 'n'], outputs: ['e'] },
      { op: 'MatMul', inputs: ['e', 'e'], outputs: ['m'] },
      { op: 'ReduceSum', inputs: ['m'], outputs: ['y'], attributes: { keepdims: 1 } },
    ],
  });
}

/** Config of a model that `replicas` instances of its pool hold warm (the router reads it). */
export const replicated = (name: string, replicas: number) => ({
  name,
  parameters: { placement_replicas: { string_value: String(replicas) } },
});

// ---- management ------------------------------------------------------------------------------------

export type Management = ReturnType<typeof managementApi>;

export function managementApi(base: string) {
  const headers = { 'x-sibyl-actor': 'e2e-split' };
  const json = (method: string, path: string, body?: unknown): Promise<HttpAnswer> =>
    httpRequest(`${base}${path}`, {
      method,
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const ok = async (answer: Promise<HttpAnswer>, what: string): Promise<HttpAnswer> => {
    const a = await answer;
    if (a.status >= 300) throw new Error(`management API: ${what} answered ${a.status}: ${a.text.slice(0, 500)}`);
    return a;
  };
  return {
    json,
    createModel: (name: string) => ok(json('POST', '/v1/models', { name }), `create model ${name}`),
    upload: async (name: string, bytes: Uint8Array): Promise<number> => {
      const a = await ok(
        httpRequest(`${base}/v1/models/${name}/versions?filename=model.onnx`, {
          method: 'POST',
          body: bytes,
          headers: { ...headers, 'content-type': 'application/octet-stream' },
        }),
        `upload a version of ${name}`,
      );
      return (a.json as { version: number }).version;
    },
    deploy: (name: string, version: number) => ok(json('POST', `/v1/models/${name}/deploy`, { version }), `deploy ${name} ${version}`),
    traffic: (name: string, body: { canary_version: number | null; canary_weight: number; shadow_version: number | null }) =>
      ok(json('PUT', `/v1/models/${name}/traffic`, body), `set the traffic of ${name}`),
    createPool: (body: Record<string, unknown>) => ok(json('POST', '/v1/pools', body), `create pool ${String(body['name'])}`),
    createRoute: (body: Record<string, unknown>) => ok(json('POST', '/v1/routes', body), 'create a routing rule'),
    model: (name: string) => json('GET', `/v1/models/${name}`),
  };
}

// ---- metrics -----------------------------------------------------------------------------------------

/** Sum of the samples of `metric` whose labels include every one of `labels`, in Prometheus text format. */
export function metricSum(text: string, metric: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${metric}{`) && !line.startsWith(`${metric} `)) continue;
    const braceEnd = line.lastIndexOf('}');
    const labelText = line.startsWith(`${metric}{`) ? line.slice(metric.length + 1, braceEnd) : '';
    const value = Number(line.slice(braceEnd >= 0 ? braceEnd + 1 : metric.length).trim().split(/\s+/)[0]);
    const found: Record<string, string> = {};
    for (const m of labelText.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) found[m[1]!] = m[2]!;
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) sum += value;
  }
  return sum;
}

export async function scrape(metricsUrl: string): Promise<string> {
  const res = await fetch(`${metricsUrl}/metrics`);
  if (res.status !== 200) throw new Error(`GET ${metricsUrl}/metrics answered ${res.status}`);
  return res.text();
}

/** Successful inferences of `model` (any version unless given) a worker counted. */
export async function served(metricsUrl: string, model: string, version?: string): Promise<number> {
  return metricSum(await scrape(metricsUrl), 'nv_inference_request_success', version === undefined ? { model } : { model, version });
}

/** Which of `workers` served each model: counts per worker name. */
export async function servedBy(workers: ReadonlyArray<{ name: string; metricsUrl: string }>, model: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const w of workers) out[w.name] = await served(w.metricsUrl, model).catch(() => NaN);
  return out;
}

// ---- inference -----------------------------------------------------------------------------------------

export interface Answer {
  status: number;
  /** model_version of the answer; '' when it failed. */
  version: string;
  /** y[0]; NaN when it failed. */
  y: number;
  /** The error text when it failed. */
  error: string;
  /** performance.now() when the request was sent and when its answer was complete. */
  sentAt: number;
  doneAt: number;
}

/** POST /v2/models/{model}/infer with x = [x] (and `id` when given) over the gateway's REST API. */
export async function inferRest(httpUrl: string, model: string, x: number, options: { id?: string; version?: string } = {}): Promise<Answer> {
  const sentAt = performance.now();
  const path = options.version === undefined ? `/v2/models/${model}/infer` : `/v2/models/${model}/versions/${options.version}/infer`;
  try {
    const answer = await httpRequest(`${httpUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...(options.id === undefined ? {} : { id: options.id }), inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [x] }] }),
    });
    const doneAt = performance.now();
    if (answer.status !== 200) return { status: answer.status, version: '', y: NaN, error: answer.text.slice(0, 300), sentAt, doneAt };
    const json = answer.json as { model_version: string; outputs: Array<{ data: number[] }> };
    return { status: 200, version: json.model_version, y: json.outputs[0]!.data[0]!, error: '', sentAt, doneAt };
  } catch (err) {
    return { status: 0, version: '', y: NaN, error: String((err as Error).cause ?? err), sentAt, doneAt: performance.now() };
  }
}

/** ModelInfer with x = [x] over the gateway's gRPC API (raw contents). */
export async function inferGrpc(client: InferenceClient, model: string, x: number): Promise<Answer> {
  const sentAt = performance.now();
  const raw = Buffer.alloc(4);
  raw.writeFloatLE(x, 0);
  try {
    const response: Message = await client.modelInfer({
      model_name: model,
      inputs: [{ name: 'x', datatype: 'FP32', shape: ['1'] }],
      raw_input_contents: [raw],
    });
    const out = response['raw_output_contents'] as Buffer[];
    return { status: 200, version: String(response['model_version']), y: out[0]!.readFloatLE(0), error: '', sentAt, doneAt: performance.now() };
  } catch (err) {
    const e = err as { code?: number; details?: string };
    return { status: -(e.code ?? 2), version: '', y: NaN, error: e.details ?? String(err), sentAt, doneAt: performance.now() };
  }
}

/** Steady load: `concurrency` clients, each sending its next request as soon as the last is answered. */
export interface Load {
  /** Every answer so far, in completion order. */
  readonly answers: readonly Answer[];
  /** Answers so far that were not 200. */
  failures(): Answer[];
  /** Stops the clients after their current request; resolves with every answer. */
  stop(): Promise<Answer[]>;
}

export function startLoad(concurrency: number, send: (client: number, i: number) => Promise<Answer>): Load {
  const answers: Answer[] = [];
  let running = true;
  const clients = Array.from({ length: concurrency }, async (_, c) => {
    for (let i = 0; running; i++) answers.push(await send(c, i));
  });
  return {
    answers,
    failures: () => answers.filter((a) => a.status !== 200),
    stop: async () => {
      running = false;
      await Promise.all(clients);
      return answers;
    },
  };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `check` every 50 ms until it is true; throws naming `what` after `timeoutMs`. */
export async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      if (await check()) return;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last === undefined ? '' : ` (last error: ${String(last)})`}`);
    await sleep(50);
  }
}

/** A short account of failed answers for an assertion message. */
export function describeFailures(answers: readonly Answer[]): string {
  const failed = answers.filter((a) => a.status !== 200);
  const kinds = new Map<string, number>();
  for (const a of failed) {
    const key = `${a.status} ${a.error.slice(0, 160)}`;
    kinds.set(key, (kinds.get(key) ?? 0) + 1);
  }
  return [...kinds].map(([k, n]) => `${n}× ${k}`).join('\n');
}
