import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tarGz } from './tar-gz.js';
import {
  describeEachBackend,
  eventually,
  expectedSignature,
  onnxModel,
  startManagement,
  uploadPath,
  type Harness,
  type Reply,
} from './management.fixture.js';

const OCTETS = { 'content-type': 'application/octet-stream' };
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Sends `chunks` one write at a time; chunked transfer unless `contentLength` is given. */
function stream(h: Harness, path: string, chunks: readonly Buffer[], headers: Record<string, string> = OCTETS): Promise<Reply> {
  const { port } = new URL(h.base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path, headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body: text === '' ? undefined : JSON.parse(text) });
        req.destroy();
      });
    });
    req.on('error', reject);
    (async () => {
      for (const chunk of chunks) {
        if (req.destroyed) return;
        if (!req.write(chunk)) await new Promise((r) => req.once('drain', r));
      }
      req.end();
    })().catch(reject);
  });
}

/** Starts an upload announcing `announced` bytes, sends `sent` of them, then drops the connection. */
function abortedUpload(h: Harness, path: string, body: Buffer, sent: number): Promise<void> {
  const { port } = new URL(h.base);
  return new Promise((resolve) => {
    const req = httpRequest({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path,
      headers: { ...OCTETS, 'content-length': String(body.length) },
    });
    req.on('error', () => resolve());
    req.write(body.subarray(0, sent), () => {
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 100);
    });
  });
}

describeEachBackend('versions API', (backend) => {
  let h: Harness;
  const model = Buffer.from(onnxModel('iris'));

  beforeAll(async () => {
    h = await startManagement({ backend, maxUploadBytes: 256 * 1024 });
    for (const name of ['iris', 'dup', 'bad', 'dir', 'big', 'cut', 'retire']) {
      expect((await h.call('POST', '/v1/models', { json: { name } })).status).toBe(201);
    }
  });
  afterAll(async () => {
    await h?.close();
  });

  describe('POST /v1/models/{name}/versions', () => {
    it('stores a good ONNX model, derives its signature, and answers 201 with version 1', async () => {
      const res = await h.call('POST', uploadPath('iris', 'model.onnx', sha256(model)), { body: model, headers: { ...OCTETS, 'x-sibyl-actor': 'ana' } });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        model: 'iris',
        version: 1,
        sha256: sha256(model),
        size: model.length,
        filename: 'model.onnx',
        format: 'onnx-file',
        state: 'registered',
        state_reason: '',
        signature: { platform: 'onnxruntime_onnx', ...expectedSignature(), ...(res.body.signature.max_batch_size === undefined ? {} : { max_batch_size: res.body.signature.max_batch_size }) },
        config: null,
        created_by: 'ana',
        created_at: expect.stringMatching(/^\d{4}-/),
      });
      expect(await h.store.has(sha256(model))).toBe(true);
      const events = await h.call('GET', '/v1/models/iris/events');
      expect(events.body.events[0]).toMatchObject({ action: 'version.register', actor: 'ana', to: '1' });
    });

    it('serves the stored file at /v1/artifacts/{sha256}', async () => {
      const { port } = new URL(h.base);
      const res = await fetch(`http://127.0.0.1:${port}/v1/artifacts/${sha256(model)}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('etag')).toBe(`"${sha256(model)}"`);
      expect(Buffer.from(await res.arrayBuffer()).equals(model)).toBe(true);
      const missing = await h.call('GET', `/v1/artifacts/${'0'.repeat(64)}`);
      expect(missing.status).toBe(404);
      expect((await h.call('GET', '/v1/artifacts/not-a-hash')).status).toBe(400);
    });

    it('accepts a body without Content-Type (curl -T) and an upper-case sha256', async () => {
      const bytes = Buffer.from(onnxModel('untyped'));
      const res = await h.call('POST', uploadPath('iris', 'untyped.onnx', sha256(bytes).toUpperCase()), { body: bytes });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ version: 2, sha256: sha256(bytes) });
    });

    it('answers the same bytes again with the existing version (200), registering nothing', async () => {
      const first = await h.call('POST', uploadPath('dup', 'model.onnx'), { body: model, headers: OCTETS });
      expect(first.status).toBe(201);
      const again = await h.call('POST', uploadPath('dup', 'renamed.onnx'), { body: model, headers: OCTETS });
      expect(again.status).toBe(200);
      expect(again.body).toEqual(first.body);
      expect((await h.call('GET', '/v1/models/dup/versions')).body.versions).toHaveLength(1);
      // One artifact for both models: the store is content-addressed.
      expect(first.body.sha256).toBe(sha256(model));
    });

    it('gives concurrent uploads of the same bytes one version', async () => {
      const bytes = Buffer.from(onnxModel('concurrent'));
      const replies = await Promise.all(
        Array.from({ length: 4 }, () => h.call('POST', uploadPath('dup', 'model.onnx'), { body: bytes, headers: OCTETS })),
      );
      expect(replies.map((r) => r.status).sort()).toEqual([200, 200, 200, 201]);
      expect(new Set(replies.map((r) => r.body.version)).size).toBe(1);
      expect((await h.call('GET', '/v1/models/dup/versions')).body.versions).toHaveLength(2);
    });

    it('makes a new version of bytes whose version was retired', async () => {
      const bytes = Buffer.from(onnxModel('retired-bytes'));
      expect((await h.call('POST', uploadPath('retire', 'model.onnx'), { body: bytes, headers: OCTETS })).body.version).toBe(1);
      expect((await h.call('DELETE', '/v1/models/retire/versions/1')).body.state).toBe('retired');
      const again = await h.call('POST', uploadPath('retire', 'model.onnx'), { body: bytes, headers: OCTETS });
      expect(again.status).toBe(201);
      expect(again.body).toMatchObject({ version: 2, state: 'registered' });
    });

    it('refuses bytes that do not match ?sha256= with 400, storing and registering nothing', async () => {
      const bytes = Buffer.from(onnxModel('mismatch'));
      const claimed = 'ab'.repeat(32);
      const res = await h.call('POST', uploadPath('bad', 'model.onnx', claimed), { body: bytes, headers: OCTETS });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('SIBYL_ARTIFACT_HASH_MISMATCH');
      expect(res.body.error).toContain(`expected ${claimed}, received bytes hash to ${sha256(bytes)}`);
      expect(await h.store.has(sha256(bytes))).toBe(false);
      expect((await h.call('GET', '/v1/models/bad/versions')).body.versions).toEqual([]);
      expect(await h.tempFiles()).toEqual([]);
    });

    it("refuses bytes that are not a model with 400 and onnxruntime's reason, storing nothing", async () => {
      const garbage = Buffer.from('this is not an onnx model at all, just text');
      const res = await h.call('POST', uploadPath('bad', 'model.onnx'), { body: garbage, headers: OCTETS });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('SIBYL_MANAGEMENT_MODEL_REJECTED');
      expect(res.body.error).toMatch(/^upload 'model.onnx' was not accepted: the runtime cannot load it: /);
      expect(res.body.error).toContain('Protobuf parsing failed');
      expect(await h.store.has(sha256(garbage))).toBe(false);
      expect((await h.call('GET', '/v1/models/bad/versions')).body.versions).toEqual([]);
      expect(await h.tempFiles()).toEqual([]);
    });

    it('refuses a truncated model file the same way', async () => {
      const truncated = model.subarray(0, Math.floor(model.length / 2));
      const res = await h.call('POST', uploadPath('bad', 'model.onnx'), { body: truncated, headers: OCTETS });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('SIBYL_MANAGEMENT_MODEL_REJECTED');
      expect(await h.store.has(sha256(truncated))).toBe(false);
    });

    it('registers nothing and leaves no temporary file when the client aborts mid-upload', async () => {
      const bytes = Buffer.alloc(200 * 1024, 7);
      bytes.set(model);
      await abortedUpload(h, uploadPath('cut', 'model.onnx'), bytes, 100 * 1024);
      expect(await eventually(async () => (await h.tempFiles()).length === 0)).toBe(true);
      expect((await h.call('GET', '/v1/models/cut/versions')).body.versions).toEqual([]);
      expect(await h.store.has(sha256(bytes))).toBe(false);
      // The server carries on.
      expect((await h.call('POST', uploadPath('cut', 'model.onnx'), { body: model, headers: OCTETS })).status).toBe(201);
    });

    describe('directory models (.tar.gz)', () => {
      it('stores a directory holding model.onnx and validates that file', async () => {
        const archive = tarGz([
          { name: 'model.onnx', content: onnxModel('directory') },
          { name: 'labels.txt', content: Buffer.from('setosa\nversicolor\nvirginica\n') },
        ]);
        const res = await h.call('POST', uploadPath('dir', 'iris.tar.gz'), { body: archive, headers: OCTETS });
        expect(res.status).toBe(201);
        expect(res.body).toMatchObject({ version: 1, format: 'tar.gz', filename: 'iris.tar.gz', size: archive.length, sha256: sha256(archive) });
        expect(res.body.signature).toMatchObject(expectedSignature());
        const info = await h.store.stat(sha256(archive));
        expect(info.format === 'tar.gz' && info.files).toEqual(['labels.txt', 'model.onnx']);
      });

      it('refuses an archive with a `..` entry with 400, storing nothing', async () => {
        const archive = tarGz([
          { name: 'model.onnx', content: onnxModel('escape') },
          { name: '../escape.txt', content: Buffer.from('out') },
        ]);
        const res = await h.call('POST', uploadPath('dir', 'evil.tar.gz'), { body: archive, headers: OCTETS });
        expect(res.status).toBe(400);
        expect(res.body.code).toBe('SIBYL_ARTIFACT_ARCHIVE_ENTRY_UNSAFE');
        expect(res.body.error).toContain("'../escape.txt'");
        expect(await h.store.has(sha256(archive))).toBe(false);
        expect(await h.tempFiles()).toEqual([]);
        expect((await h.call('GET', '/v1/models/dir/versions')).body.versions).toHaveLength(1);
      });

      it('refuses an archive with neither model.onnx nor model.json, naming both', async () => {
        const archive = tarGz([{ name: 'weights.bin', content: Buffer.from('1234') }]);
        const res = await h.call('POST', uploadPath('dir', 'weights.tar.gz'), { body: archive, headers: OCTETS });
        expect(res.status).toBe(400);
        expect(res.body.code).toBe('SIBYL_ARTIFACT_ENTRY_POINT_MISSING');
        expect(res.body.error).toMatch(/'model\.onnx', 'model\.json'/);
        expect(await h.store.has(sha256(archive))).toBe(false);
      });

      it('refuses a TensorFlow.js archive when the runtime it is checked on has no TensorFlow.js engine, saying so', async () => {
        const archive = tarGz([{ name: 'model.json', content: Buffer.from('{}') }]);
        const res = await h.call('POST', uploadPath('dir', 'tfjs.tar.gz'), { body: archive, headers: OCTETS });
        expect(res.status).toBe(400);
        expect(res.body.code).toBe('SIBYL_MANAGEMENT_MODEL_REJECTED');
        expect(res.body.error).toMatch(/model\.json.*backend 'tfjs'.*not served here/);
        expect(await h.store.has(sha256(archive))).toBe(false);
      });

      it('refuses an archive whose model.onnx is not a model, storing nothing', async () => {
        const archive = tarGz([{ name: 'model.onnx', content: Buffer.from('not onnx') }]);
        const res = await h.call('POST', uploadPath('dir', 'broken.tar.gz'), { body: archive, headers: OCTETS });
        expect(res.status).toBe(400);
        expect(res.body.code).toBe('SIBYL_MANAGEMENT_MODEL_REJECTED');
        expect(await h.store.has(sha256(archive))).toBe(false);
      });
    });

    describe('size limit', () => {
      it('refuses a declared length over the limit with 413 before reading it, and the client gets the answer', async () => {
        const bytes = Buffer.alloc(1024 * 1024, 1);
        const res = await h.call('POST', uploadPath('big', 'model.onnx'), { body: bytes, headers: OCTETS });
        expect(res.status).toBe(413);
        expect(res.body).toEqual({
          error: "upload 'model.onnx' is larger than the upload limit of 262144 bytes",
          code: 'SIBYL_MANAGEMENT_UPLOAD_TOO_LARGE',
        });
        expect(await h.tempFiles()).toEqual([]);
      });

      it('refuses a chunked upload when it passes the limit, and the client still gets the answer', async () => {
        const chunks = Array.from({ length: 32 }, (_, i) => Buffer.alloc(16 * 1024, i));
        const res = await stream(h, uploadPath('big', 'model.onnx'), chunks);
        expect(res.status).toBe(413);
        expect(res.body.code).toBe('SIBYL_MANAGEMENT_UPLOAD_TOO_LARGE');
        expect(await eventually(async () => (await h.tempFiles()).length === 0)).toBe(true);
        expect((await h.call('GET', '/v1/models/big/versions')).body.versions).toEqual([]);
      });

      it('accepts an upload of exactly the limit (and refuses it as not a model)', async () => {
        const res = await h.call('POST', uploadPath('big', 'model.onnx'), { body: Buffer.alloc(256 * 1024, 3), headers: OCTETS });
        expect(res.status).toBe(400);
        expect(res.body.code).toBe('SIBYL_MANAGEMENT_MODEL_REJECTED');
      });
    });

    describe('refused before the body is read', () => {
      it('answers 404 for an unknown model', async () => {
        const res = await h.call('POST', uploadPath('nope', 'model.onnx'), { body: model, headers: OCTETS });
        expect(res.status).toBe(404);
        expect(res.body.code).toBe('SIBYL_REGISTRY_MODEL_NOT_FOUND');
        expect(await h.tempFiles()).toEqual([]);
      });

      it.each([
        ['/v1/models/iris/versions', "query string is missing the required field 'filename'"],
        ['/v1/models/iris/versions?filename=model.onnx&sha256=xyz', "query string field 'sha256' must match ^[0-9a-fA-F]{64}$, got \"xyz\""],
        ['/v1/models/iris/versions?filename=model.onnx&colour=red', "query string: unknown field 'colour'; known fields: filename, sha256"],
        ['/v1/models/iris/versions?filename=', 'query string field \'filename\' must NOT have fewer than 1 characters, got ""'],
      ])('answers 400 for %s', async (path, error) => {
        const res = await h.call('POST', path, { body: model, headers: OCTETS });
        expect(res.status).toBe(400);
        expect(res.body.error).toBe(error);
      });

      it('answers 400 for a filename that is a path', async () => {
        const res = await h.call('POST', uploadPath('iris', '../model.onnx'), { body: model, headers: OCTETS });
        expect(res.status).toBe(400);
        expect(res.body.code).toBe('SIBYL_ARTIFACT_FILENAME_INVALID');
      });

      it('answers 400 for a model name that breaks the rule', async () => {
        const res = await h.call('POST', '/v1/models/%2e%2e/versions?filename=model.onnx', { body: model, headers: OCTETS });
        expect(res.status).toBe(400);
        expect(res.body.code).toBe('SIBYL_MANAGEMENT_MODEL_NAME_INVALID');
      });

      it('refuses a form or text body, which a browser could send from another site', async () => {
        for (const type of ['application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'text/plain']) {
          const res = await h.call('POST', uploadPath('iris', 'model.onnx'), { body: model, headers: { 'content-type': type } });
          expect(res.status, type).toBe(400);
          expect(res.body.code, type).toBe('SIBYL_MANAGEMENT_CONTENT_TYPE');
        }
      });
    });
  });

  describe('GET and DELETE /v1/models/{name}/versions[/{version}]', () => {
    it('lists versions oldest first', async () => {
      const res = await h.call('GET', '/v1/models/iris/versions');
      expect(res.status).toBe(200);
      expect(res.body.versions.map((v: { version: number }) => v.version)).toEqual([1, 2]);
    });

    it('shows one version', async () => {
      const res = await h.call('GET', '/v1/models/iris/versions/1');
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ model: 'iris', version: 1, sha256: sha256(model) });
    });

    it('answers 404 for an unknown version or model, and 400 for a version that is not a number', async () => {
      expect((await h.call('GET', '/v1/models/iris/versions/9')).body).toEqual({ error: "model 'iris' has no version 9", code: 'SIBYL_REGISTRY_VERSION_NOT_FOUND' });
      expect((await h.call('GET', '/v1/models/nope/versions')).status).toBe(404);
      expect((await h.call('GET', '/v1/models/nope/versions/1')).status).toBe(404);
      const text = await h.call('GET', '/v1/models/iris/versions/one');
      expect(text.status).toBe(400);
      expect(text.body.error).toBe('path field \'version\' must match ^[0-9]{1,10}$, got "one"');
      expect((await h.call('GET', '/v1/models/iris/versions/0')).body.code).toBe('SIBYL_REGISTRY_FIELD_INVALID');
    });

    it('retires a version (200 with it), refuses the live one (409), and keeps retiring idempotent', async () => {
      await h.call('POST', '/v1/models/iris/deploy', { json: { version: 1 } });
      const live = await h.call('DELETE', '/v1/models/iris/versions/1');
      expect(live.status).toBe(409);
      expect(live.body.code).toBe('SIBYL_REGISTRY_VERSION_LIVE');
      const retired = await h.call('DELETE', '/v1/models/iris/versions/2', { headers: { 'x-sibyl-actor': 'dan' } });
      expect(retired.status).toBe(200);
      expect(retired.body).toMatchObject({ version: 2, state: 'retired' });
      expect((await h.call('DELETE', '/v1/models/iris/versions/2')).status).toBe(200);
      const events = await h.call('GET', '/v1/models/iris/events');
      expect(events.body.events[0]).toMatchObject({ action: 'version.retire', actor: 'dan', from: 'registered', to: 'retired' });
      const deploy = await h.call('POST', '/v1/models/iris/deploy', { json: { version: 2 } });
      expect(deploy.status).toBe(409);
      expect(deploy.body.code).toBe('SIBYL_REGISTRY_VERSION_NOT_DEPLOYABLE');
    });
  });
});
