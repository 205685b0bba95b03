/**
 * The CLI's `run` against a test double of the server over real HTTP: every command, both output
 * formats, the exit statuses, and a streamed multi-MiB upload checked byte for byte on arrival.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { captureIo, type CaptureOptions } from './capture-io.fixture.js';
import { MAX_UPLOAD_BYTES, startFakeSibyl, type FakeSibyl } from './fake-sibyl.fixture.js';
import { run } from './run.js';

let server: FakeSibyl;
let scratch: string;
let modelFile: string;
let modelBytes: Buffer;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'sibyl-cli-http-'));
  // 6 MiB and a bit: several chunks on the wire, not a multiple of the read size.
  modelBytes = randomBytes(6 * 1024 * 1024 + 12345);
  modelFile = join(scratch, 'model.onnx');
  await writeFile(modelFile, modelBytes);
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});
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

async function uploaded(model = 'iris') {
  expect((await sibyl(['models', 'create', model])).code).toBe(0);
  expect((await sibyl(['versions', 'upload', model, modelFile])).code).toBe(0);
}

describe('models', () => {
  it('creates, lists, shows and deletes a model, in tables', async () => {
    const created = await sibyl(['models', 'create', 'iris', '--description', 'Iris classifier', '--label', 'team=vision', '--label', 'tier=gold', '--platform', 'onnxruntime_onnx']);
    expect(created).toMatchObject({ code: 0, err: '' });
    expect(created.out).toContain('Name:              iris\n');
    expect(created.out).toContain('Labels:            team=vision,tier=gold\n');
    expect(JSON.parse(server.requests.at(-1)!.body)).toEqual({
      name: 'iris',
      description: 'Iris classifier',
      platform: 'onnxruntime_onnx',
      labels: { team: 'vision', tier: 'gold' },
    });
    expect(server.requests.at(-1)!.headers['x-sibyl-actor']).toBe('tester');

    const list = await sibyl(['models', 'list']);
    expect(list.code).toBe(0);
    expect(list.out.split('\n')[0]).toBe('NAME  PLATFORM          LIVE  PREVIOUS  LABELS                 UPDATED                   DESCRIPTION');
    expect(list.out.split('\n')[1]).toMatch(/^iris  onnxruntime_onnx  -     -         team=vision,tier=gold  2025-/);

    expect((await sibyl(['models', 'show', 'iris'])).out).toContain('Description:       Iris classifier\n');
    expect(await sibyl(['models', 'delete', 'iris'])).toEqual({ code: 0, out: 'Deleted model iris.\n', err: '' });
    expect((await sibyl(['models', 'list'])).out).toBe('No models.\n');
  });

  it('prints exactly the server JSON with --output json', async () => {
    await sibyl(['models', 'create', 'iris']);
    const list = await sibyl(['models', 'list', '--output', 'json']);
    expect(list.code).toBe(0);
    const body = JSON.parse(list.out) as { models: { name: string }[] };
    expect(body.models.map((m) => m.name)).toEqual(['iris']);
    // Byte for byte what the server sent, plus a final newline.
    const direct = await (await fetch(`${server.managementUrl}/v1/models`)).text();
    expect(list.out).toBe(`${direct}\n`);
    expect((await sibyl(['models', 'delete', 'iris', '-o', 'json'])).out).toBe('');
  });

  it('sends --actor, SIBYL_ACTOR, or $USER as the actor of changes, and no actor on reads', async () => {
    await sibyl(['models', 'create', 'a', '--actor', 'ci-bot']);
    await sibyl(['models', 'create', 'b'], { env: { SIBYL_ACTOR: 'release-job' } });
    await sibyl(['models', 'show', 'a']);
    expect(server.requests.map((r) => r.headers['x-sibyl-actor'])).toEqual(['ci-bot', 'release-job', undefined]);
  });

  it('encodes names in paths', async () => {
    const res = await sibyl(['models', 'show', '../x']);
    expect(res.code).toBe(3);
    expect(server.requests.at(-1)!.url).toBe('/v1/models/..%2Fx');
  });
});

describe('exit statuses from the server', () => {
  it('is 3 for not found, with the server message on stderr', async () => {
    expect(await sibyl(['models', 'show', 'nope'])).toEqual({ code: 3, out: '', err: "sibyl: model 'nope' not found\n" });
    expect((await sibyl(['versions', 'list', 'nope'])).code).toBe(3);
    expect((await sibyl(['deploy', 'nope', '1'])).code).toBe(3);
  });

  it('is 4 for conflicts', async () => {
    await sibyl(['models', 'create', 'iris']);
    expect(await sibyl(['models', 'create', 'iris'])).toEqual({ code: 4, out: '', err: "sibyl: model 'iris' already exists\n" });
    expect(await sibyl(['rollback', 'iris'])).toEqual({ code: 4, out: '', err: "sibyl: model 'iris' has no previous version to roll back to\n" });
  });

  it('is 1 for other errors, with the message', async () => {
    await sibyl(['models', 'create', 'iris']);
    const wrongSha = 'ab'.repeat(32);
    const res = await sibyl(['versions', 'upload', 'iris', modelFile, '--sha256', wrongSha]);
    expect(res.code).toBe(1);
    expect(res.err).toMatch(new RegExp(`^sibyl: checksum mismatch: expected ${wrongSha}, received [0-9a-f]{64}\n$`));
  });

  it('is 1 when the server cannot be reached, naming the URL and how to change it', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = probe.address() as { port: number };
        probe.close(() => resolve(free));
      });
    });
    const res = await sibyl(['status', '--url', `http://127.0.0.1:${port}`]);
    expect(res.code).toBe(1);
    expect(res.err).toBe(
      `sibyl: cannot reach the management API at http://127.0.0.1:${port} (connect ECONNREFUSED 127.0.0.1:${port}); is the server running there? (--url or SIBYL_URL picks another)\n`,
    );
    const infer = await sibyl(['infer', 'iris', '--input', 'input=1,2,3,4', '--infer-url', `http://127.0.0.1:${port}`]);
    expect(infer.code).toBe(1);
    expect(infer.err).toContain(`cannot reach the inference API at http://127.0.0.1:${port}`);
  });
});

describe('versions upload', () => {
  it('streams a multi-MiB file with its length and sha256, and the server receives exactly those bytes', async () => {
    await sibyl(['models', 'create', 'iris']);
    const res = await sibyl(['versions', 'upload', 'iris', modelFile]);
    expect(res.code).toBe(0);
    const sha256 = createHash('sha256').update(modelBytes).digest('hex');
    const [upload] = server.uploads;
    expect(upload).toEqual({
      model: 'iris',
      filename: 'model.onnx',
      claimedSha256: sha256,
      sha256,
      size: modelBytes.length,
      contentLength: String(modelBytes.length),
      chunks: expect.any(Number),
    });
    expect(upload!.chunks).toBeGreaterThan(1);
    expect(server.requests.at(-1)!.headers['content-type']).toBe('application/octet-stream');
    expect(server.requests.at(-1)!.headers['x-sibyl-actor']).toBe('tester');
    // Not a terminal: no bar, one summary line.
    expect(res.err).toMatch(new RegExp(`^Uploaded model\\.onnx \\(6\\.0 MiB, sha256 ${sha256.slice(0, 12)}…\\) to iris as version 1 in \\d+\\.\\d s\n$`));
    expect(res.out).toContain('Version:     1\n');
    expect(res.out).toContain(`SHA-256:     ${sha256}\n`);
    expect(res.out).toContain('input   input          FP32      [-1,4]');
  });

  it('sends a given --sha256 without hashing, and prints the version JSON with -o json', async () => {
    await sibyl(['models', 'create', 'iris']);
    const sha256 = createHash('sha256').update(modelBytes).digest('hex');
    const res = await sibyl(['versions', 'upload', 'iris', modelFile, '--sha256', sha256.toUpperCase(), '-o', 'json']);
    expect(res.code).toBe(0);
    expect(server.uploads[0]!.claimedSha256).toBe(sha256);
    expect(JSON.parse(res.out)).toMatchObject({ model: 'iris', version: 1, sha256, size: modelBytes.length });
  });

  it('draws a progress bar on a terminal, then erases it for the summary', async () => {
    await sibyl(['models', 'create', 'iris']);
    const res = await sibyl(['versions', 'upload', 'iris', modelFile], { stderrIsTTY: true });
    expect(res.code).toBe(0);
    expect(res.err).toContain('\rsha256 model.onnx [');
    expect(res.err).toContain('\rupload model.onnx [');
    expect(res.err).toMatch(/100% {2}6\.0 MiB \/ 6\.0 MiB/);
    expect(res.err).toMatch(/\r\x1b\[KUploaded model\.onnx/);
  });

  it('packs a directory as .tar.gz', async () => {
    const dir = join(scratch, 'tfjs-model');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'model.json'), '{}');
    await writeFile(join(dir, 'weights.bin'), Buffer.alloc(4096, 1));
    await sibyl(['models', 'create', 'tfjs']);
    const res = await sibyl(['versions', 'upload', 'tfjs', dir]);
    expect(res.code).toBe(0);
    expect(res.err).toMatch(/^Packed 2 files \(4\.0 KiB\) from .*tfjs-model into tfjs-model\.tar\.gz/);
    expect(server.uploads[0]).toMatchObject({ filename: 'tfjs-model.tar.gz' });
  });

  it('takes an early refusal (413 before the body is read) as the answer', async () => {
    const big = join(scratch, 'big.onnx');
    await writeFile(big, Buffer.alloc(MAX_UPLOAD_BYTES + 1));
    await sibyl(['models', 'create', 'iris']);
    const res = await sibyl(['versions', 'upload', 'iris', big, '--sha256', 'ab'.repeat(32)]);
    await rm(big);
    expect(res).toMatchObject({ code: 1, out: '', err: `sibyl: upload of ${MAX_UPLOAD_BYTES + 1} bytes is larger than the limit of ${MAX_UPLOAD_BYTES} bytes\n` });
  });

  it('explains a connection reset during the upload', async () => {
    await sibyl(['models', 'create', 'iris']);
    // A server that accepts the GET of the model, then resets the upload's connection mid-body.
    const resetting = createServer((socket) => {
      let seen = '';
      socket.on('data', (chunk: Buffer) => {
        seen += chunk.toString('latin1');
        if (seen.startsWith('GET') && seen.includes('\r\n\r\n')) {
          const body = '{"name":"iris","live_version":null,"previous_version":null}';
          socket.end(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`);
        } else if (seen.length > 1024 * 1024) {
          socket.resetAndDestroy();
        }
      });
    });
    const url = await new Promise<string>((resolve) => resetting.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(resetting.address() as { port: number }).port}`)));
    const res = await sibyl(['versions', 'upload', 'iris', modelFile, '--url', url]);
    resetting.close();
    expect(res.code).toBe(1);
    expect(res.err).toMatch(new RegExp(`^sibyl: the management API at ${url} closed the connection during the upload \\((read |write )?(ECONNRESET|EPIPE)`));
  });

  it('says the model does not exist before reading the file', async () => {
    expect(await sibyl(['versions', 'upload', 'ghost', modelFile])).toEqual({ code: 3, out: '', err: "sibyl: model 'ghost' not found\n" });
    expect(server.uploads).toEqual([]);
  });

  it('refuses a missing file before calling the server (exit 2)', async () => {
    const res = await sibyl(['versions', 'upload', 'iris', join(scratch, 'absent.onnx')]);
    expect(res).toEqual({ code: 2, out: '', err: `sibyl: ${join(scratch, 'absent.onnx')}: no such file or directory\n` });
    expect(server.requests).toEqual([]);
  });
});

describe('versions, deploy, rollback, events', () => {
  it('deploys, rolls back and shows the audit log', async () => {
    await uploaded();
    await sibyl(['versions', 'upload', 'iris', modelFile]);
    expect((await sibyl(['deploy', 'iris', '1'])).out).toBe('iris: deployed; live version 1 (previous -)\n');
    expect(JSON.parse(server.requests.at(-1)!.body)).toEqual({ version: 1 });
    expect((await sibyl(['deploy', 'iris', '2'])).out).toBe('iris: deployed; live version 2 (previous 1)\n');

    const versions = (await sibyl(['versions', 'list', 'iris'])).out.split('\n');
    expect(versions[0]).toMatch(/^VERSION {2}STATE {2}RELEASE {3}SIZE {5}SHA256/);
    expect(versions[1]).toMatch(/^1 {8}ready {2}previous {2}6\.0 MiB/);
    expect(versions[2]).toMatch(/^2 {8}ready {2}live {6}6\.0 MiB/);

    const rollback = await sibyl(['rollback', 'iris', '-o', 'json']);
    expect(JSON.parse(rollback.out)).toEqual({ model: 'iris', live_version: 1, previous_version: 2 });

    expect(await sibyl(['versions', 'retire', 'iris', '1'])).toMatchObject({ code: 4, err: 'sibyl: version 1 of \'iris\' is live\n' });
    expect(await sibyl(['versions', 'retire', 'iris', '2'])).toEqual({ code: 0, out: 'Retired iris version 2.\n', err: '' });
    expect((await sibyl(['versions', 'show', 'iris', '2'])).out).toContain('State:       retired\n');

    const events = (await sibyl(['events', 'iris'])).out.split('\n');
    expect(events[0]).toBe('ID  AT                        ACTOR   ACTION           FROM  TO  DETAIL');
    expect(events.slice(1, -1).map((line) => line.split(/\s{2,}/).slice(2, 6).join(' '))).toEqual([
      'model.created - -',
      'version.created - 1',
      'version.created - 2',
      'deploy - 1',
      'deploy 1 2',
      'rollback 2 1',
      'version.retired 2 -',
    ].map((s) => `tester ${s}`));
  });

  it('shows the status', async () => {
    await uploaded();
    expect(await sibyl(['status'])).toEqual({
      code: 0,
      out: 'name:            sibyl\nversion:         0.1.0\nready:           true\nmodels:          1\nversions ready:  1\n',
      err: '',
    });
  });
});

describe('infer', () => {
  it('builds the request from --input and the metadata: [-1,4] with 4 values is [1,4]', async () => {
    const res = await sibyl(['infer', 'iris', '--input', 'input=5.1,3.5,1.4,0.2']);
    expect(res.code).toBe(0);
    const [metadata, infer] = server.requests;
    expect(metadata).toMatchObject({ method: 'GET', url: '/v2/models/iris' });
    expect(infer).toMatchObject({ method: 'POST', url: '/v2/models/iris/infer' });
    expect(JSON.parse(infer!.body)).toEqual({ inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP32', data: [5.1, 3.5, 1.4, 0.2] }] });
    expect(res.out).toBe(
      ['iris version 2', 'OUTPUT         DATATYPE  SHAPE  DATA', 'probabilities  FP32      [1,3]  [0.999956, 0.0000221, 0.0000221]', 'label          INT64     [1]    [0]', ''].join('\n'),
    );
  });

  it('asks a given version, with a batch of two', async () => {
    const res = await sibyl(['infer', 'iris', '--version', '1', '--input', 'input=5.1,3.5,1.4,0.2,6.7,3.0,5.2,2.3', '-o', 'json']);
    expect(res.code).toBe(0);
    expect(server.requests.map((r) => r.url)).toEqual(['/v2/models/iris/versions/1', '/v2/models/iris/versions/1/infer']);
    expect(JSON.parse(server.requests[1]!.body).inputs[0].shape).toEqual([2, 4]);
    expect(JSON.parse(res.out)).toMatchObject({ model_name: 'iris', model_version: '1' });
  });

  it('sends a --json request as written, from a file or standard input', async () => {
    const body = '{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}],"parameters":{"n":9007199254740993}}';
    await writeFile(join(scratch, 'request.json'), body);
    expect((await sibyl(['infer', 'iris', '--json', 'request.json'], { cwd: scratch })).code).toBe(0);
    expect((await sibyl(['infer', 'iris', '--json', '-'], { stdin: body })).code).toBe(0);
    expect(server.requests.map((r) => r.body)).toEqual([body, body]);
  });

  it('reports a bad request file or input as exit 2, and the model not found as exit 3', async () => {
    await writeFile(join(scratch, 'bad.json'), '{"inputs": [');
    const bad = await sibyl(['infer', 'iris', '--json', join(scratch, 'bad.json')]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/^sibyl: .*bad\.json: not JSON/);
    const wrong = await sibyl(['infer', 'iris', '--input', 'nope=1']);
    expect(wrong).toMatchObject({ code: 2, err: "sibyl: model iris has no input 'nope'; its inputs: input (FP32 [-1,4])\n" });
    expect(await sibyl(['infer', 'ghost', '--input', 'x=1'])).toMatchObject({ code: 3, err: "sibyl: Request for unknown model: 'ghost' is not found\n" });
  });
});
