/**
 * `sibyl pools`, `sibyl routes` and `sibyl traffic` against the test double of the server over real
 * HTTP: what each command sends, its tables, `--output json`, and the exit statuses.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { captureIo, type CaptureOptions } from './capture-io.fixture.js';
import { startFakeSibyl, type FakeSibyl } from './fake-sibyl.fixture.js';
import { run } from './run.js';

let server: FakeSibyl;
beforeEach(async () => {
  server = await startFakeSibyl();
});
afterEach(async () => {
  await server.close();
});

async function sibyl(argv: string[], options: CaptureOptions = {}) {
  const io = captureIo({ ...options, env: { SIBYL_URL: server.managementUrl, SIBYL_INFER_URL: server.inferenceUrl, ...options.env } });
  const code = await run(argv, io);
  return { code, out: io.out(), err: io.err() };
}

const lastRequest = () => {
  const r = server.requests.at(-1)!;
  return { method: r.method, url: r.url, body: r.body === '' ? undefined : JSON.parse(r.body) };
};

describe('pools', () => {
  it('lists the pools in a table, and as the server JSON', async () => {
    const list = await sibyl(['pools', 'list']);
    expect(list).toMatchObject({ code: 0, err: '' });
    expect(list.out).toBe(
      [
        'NAME  KIND        INSTANCES  DESCRIPTION',
        'onnx  sibyl-onnx  discovery  ONNX workers (onnxruntime-node)',
        'tf    sibyl-tf    discovery  TensorFlow.js workers',
        '',
      ].join('\n'),
    );
    const json = await sibyl(['pools', 'list', '--output', 'json']);
    expect(JSON.parse(json.out).pools.map((p: { name: string }) => p.name)).toEqual(['onnx', 'tf']);
  });

  it('creates a pool with endpoints, switches it to discovery, shows and deletes it', async () => {
    const created = await sibyl(['pools', 'create', 'gpu', '--kind', 'triton', '--endpoint', 'grpc://t0:8001', '--endpoint', 'grpc://t1:8001', '--description', 'GPU']);
    expect(created.code).toBe(0);
    expect(lastRequest()).toEqual({
      method: 'POST',
      url: '/v1/pools',
      body: { name: 'gpu', kind: 'triton', endpoints: ['grpc://t0:8001', 'grpc://t1:8001'], description: 'GPU' },
    });
    expect(created.out).toContain('Endpoints:    grpc://t0:8001, grpc://t1:8001\n');
    expect((await sibyl(['pools', 'update', 'gpu', '--discovery'])).code).toBe(0);
    expect(lastRequest()).toEqual({ method: 'PATCH', url: '/v1/pools/gpu', body: { discovery: true } });
    expect((await sibyl(['pools', 'show', 'gpu'])).out).toContain('Instances:    discovered');
    expect(await sibyl(['pools', 'delete', 'gpu'])).toEqual({ code: 0, out: 'Deleted pool gpu.\n', err: '' });
    expect((await sibyl(['pools', 'show', 'gpu'])).code).toBe(3);
  });

  it('refuses bad usage with exit status 2 before calling the server, and a pool in use with 4', async () => {
    const before = server.requests.length;
    const noKind = await sibyl(['pools', 'create', 'gpu', '--discovery']);
    expect(noKind.code).toBe(2);
    expect(noKind.err).toContain('--kind is required');
    const both = await sibyl(['pools', 'create', 'gpu', '--kind', 'triton', '--discovery', '--endpoint', 'http://a:1']);
    expect(both.code).toBe(2);
    expect(both.err).toContain('--endpoint and --discovery exclude each other');
    expect((await sibyl(['pools', 'create', 'gpu', '--kind', 'triton'])).code).toBe(2);
    expect((await sibyl(['pools', 'update', 'onnx'])).code).toBe(2);
    expect(server.requests.length).toBe(before);
    const inUse = await sibyl(['pools', 'delete', 'onnx']);
    expect(inUse.code).toBe(4);
    expect(inUse.err).toContain("pool 'onnx' is named by routing rules 1");
  });
});

describe('routes', () => {
  it('lists the rules with their matches, adds one with every match option, updates and removes it', async () => {
    expect((await sibyl(['routes', 'list'])).out).toBe(
      [
        'ID  PRIORITY  MATCH                      POOL  DESCRIPTION',
        '1   1000      platform=onnxruntime_onnx  onnx  Default: ONNX models',
        '2   1010      platform=tensorflowjs_*    tf    Default: TensorFlow.js models',
        '',
      ].join('\n'),
    );
    const added = await sibyl([
      'routes', 'add', '--priority', '10', '--pool', 'onnx', '--platform', 'onnx*', '--algorithm', 'mlp', '--name', 'iris-*',
      '--tenant', 'acme', '--label', 'team=vis*', '--label', 'tier=gold', '--description', 'vision team',
    ]);
    expect(added.code).toBe(0);
    expect(lastRequest()).toEqual({
      method: 'POST',
      url: '/v1/routes',
      body: {
        priority: 10,
        pool: 'onnx',
        match: { platform: 'onnx*', algorithm: 'mlp', name: 'iris-*', tenant: 'acme', labels: { team: 'vis*', tier: 'gold' } },
        description: 'vision team',
      },
    });
    expect(added.out).toContain('Match:        name=iris-* platform=onnx* algorithm=mlp tenant=acme label:team=vis* label:tier=gold\n');
    expect((await sibyl(['routes', 'list'])).out.split('\n')[1]).toMatch(/^3 +10 +name=iris-\* /);
    expect((await sibyl(['routes', 'update', '3', '--priority=-5', '--platform', 'x'])).code).toBe(0);
    expect(lastRequest()).toEqual({ method: 'PATCH', url: '/v1/routes/3', body: { priority: -5, match: { platform: 'x' } } });
    expect(await sibyl(['routes', 'rm', '3'])).toEqual({ code: 0, out: 'Removed routing rule 3.\n', err: '' });
    expect(lastRequest()).toMatchObject({ method: 'DELETE', url: '/v1/routes/3' });
    expect((await sibyl(['routes', 'rm', '3'])).code).toBe(3);
  });

  it('refuses bad usage with exit status 2', async () => {
    expect((await sibyl(['routes', 'add', '--pool', 'onnx'])).err).toContain('--priority is required');
    expect((await sibyl(['routes', 'add', '--priority', '1'])).err).toContain('--pool is required');
    expect((await sibyl(['routes', 'add', '--priority', 'high', '--pool', 'onnx'])).code).toBe(2);
    expect((await sibyl(['routes', 'add', '--priority', '1', '--pool', 'onnx', '--label', 'team'])).code).toBe(2);
    expect((await sibyl(['routes', 'update', '1'])).code).toBe(2);
    expect((await sibyl(['routes', 'rm', 'one'])).code).toBe(2);
  });

  it('explains the route of the live version or a named one, rule by rule', async () => {
    expect((await sibyl(['models', 'create', 'iris'])).code).toBe(0);
    const body = Buffer.from('model bytes');
    const { writeFile, mkdtemp, rm } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(join(tmpdir(), 'sibyl-cli-routes-'));
    try {
      await writeFile(join(dir, 'model.onnx'), body);
      expect((await sibyl(['versions', 'upload', 'iris', join(dir, 'model.onnx')])).code).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const none = await sibyl(['routes', 'explain', 'iris']);
    expect(none.code).toBe(4);
    expect(none.err).toContain('name the version to explain');
    const explained = await sibyl(['routes', 'explain', 'iris', '--version', '1']);
    expect(lastRequest().url).toBe('/v1/routes/explain/iris?version=1');
    expect(explained.out).toBe(
      [
        'iris version 1: pool onnx (rule 1, priority 1000)',
        '',
        'RULE  PRIORITY  POOL  MATCHES  WHY',
        "1     1000      onnx  yes      platform 'onnxruntime_onnx' matches 'onnxruntime_onnx'",
        "2     1010      tf    no       platform 'onnxruntime_onnx' does not match 'tensorflowjs_*'",
        '',
      ].join('\n'),
    );
    expect((await sibyl(['routes', 'explain', 'iris', '--version', 'x'])).code).toBe(2);
  });
});

describe('traffic', () => {
  async function deployedIris(): Promise<void> {
    const { writeFile, mkdtemp, rm } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(join(tmpdir(), 'sibyl-cli-traffic-'));
    try {
      expect((await sibyl(['models', 'create', 'iris'])).code).toBe(0);
      for (const i of [1, 2, 3]) {
        await writeFile(join(dir, 'model.onnx'), `model ${i}`);
        expect((await sibyl(['versions', 'upload', 'iris', join(dir, 'model.onnx')])).code).toBe(0);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    expect((await sibyl(['deploy', 'iris', '1'])).code).toBe(0);
  }

  it('sets a canary with a weight and a shadow, shows them, and clears them', async () => {
    await deployedIris();
    const set = await sibyl(['traffic', 'set', 'iris', '--canary', '2', '--weight', '0.1', '--shadow', '3']);
    expect(set.code).toBe(0);
    expect(lastRequest()).toEqual({ method: 'PUT', url: '/v1/models/iris/traffic', body: { canary_version: 2, canary_weight: 0.1, shadow_version: 3 } });
    expect(server.requests.at(-1)!.headers['x-sibyl-actor']).toBe('tester');
    expect(set.out).toBe(
      [
        'Model:           iris',
        'Live version:    1',
        'Canary version:  2 (10% of requests without a version)',
        'Shadow version:  3 (a copy of each request without a version)',
        '',
      ].join('\n'),
    );
    expect(JSON.parse((await sibyl(['traffic', 'show', 'iris', '--output', 'json'])).out)).toEqual({
      model: 'iris',
      live_version: 1,
      canary_version: 2,
      canary_weight: 0.1,
      shadow_version: 3,
    });
    expect((await sibyl(['traffic', 'set', 'iris', '--clear-canary', '--clear-shadow'])).code).toBe(0);
    expect(lastRequest().body).toEqual({ canary_version: null, shadow_version: null });
    expect((await sibyl(['traffic', 'show', 'iris'])).out).toContain('Canary version:  -\nShadow version:  -\n');
  });

  it('refuses bad usage with 2, and what the server refuses with 4', async () => {
    await deployedIris();
    expect((await sibyl(['traffic', 'set', 'iris'])).code).toBe(2);
    expect((await sibyl(['traffic', 'set', 'iris', '--canary', '2', '--clear-canary'])).code).toBe(2);
    expect((await sibyl(['traffic', 'set', 'iris', '--canary', '2', '--weight', '1.5'])).err).toContain('--weight: expected a number from 0 to 1');
    expect((await sibyl(['traffic', 'set', 'iris', '--shadow', 'two'])).code).toBe(2);
    const live = await sibyl(['traffic', 'set', 'iris', '--canary', '1']);
    expect(live.code).toBe(4);
    expect(live.err).toContain("version 1 of model 'iris' cannot be the canary: it is the live version");
    expect((await sibyl(['traffic', 'show', 'ghost'])).code).toBe(3);
  });
});
