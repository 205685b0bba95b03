import { isSibylError } from '@sibyl/protocol';
import { buildOnnxModel, writeModelRepository, type RepositoryModel } from '@sibyl/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, tempDir, type Harness } from './test-support/service-harness.js';

/** Version k of a model adds k to its input, so a response tells which version ran. */
function addK(name: string, k: number): Uint8Array {
  return buildOnnxModel({
    name,
    inputs: [{ name: 'x', datatype: 'FP32', shape: [1] }],
    outputs: [{ name: 'y', datatype: 'FP32', shape: [1] }],
    initializers: [{ name: 'k', datatype: 'FP32', dims: [1], values: new Float32Array([k]) }],
    nodes: [{ op: 'Add', inputs: ['x', 'k'], outputs: ['y'] }],
  });
}

function model(name: string, versions: number[], config: object = {}, corrupt: number[] = []): RepositoryModel {
  const files: Record<string, Uint8Array> = {};
  for (const v of versions) files[String(v)] = corrupt.includes(v) ? new Uint8Array([0xde, 0xad]) : addK(name, v);
  return { name, versions: files, config: { ...config, parameters: { execution_mode: { string_value: 'inline' } } } };
}

async function codeOf(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (err) {
    if (isSibylError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected a rejection');
}

describe('versions and version_policy', () => {
  let repo: { dir: string; cleanup: () => Promise<void> };
  let h: Harness;

  const run = async (name: string, version?: string) => {
    const response = await h.service.infer({
      modelName: name,
      ...(version === undefined ? {} : { modelVersion: version }),
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: new Float32Array([100]) }],
    });
    return { version: response.modelVersion, added: (response.outputs[0]!.data as Float32Array)[0]! - 100 };
  };

  beforeAll(async () => {
    repo = await tempDir();
    await writeModelRepository(repo.dir, [
      model('every', [1, 2, 10]),
      model('latest2', [1, 2, 3], { version_policy: { latest: { num_versions: 2 } } }),
      model('specific', [1, 2, 3], { version_policy: { specific: { versions: [1, 3, 5] } } }),
      model('top-broken', [1, 2, 3], {}, [3]),
    ]);
    h = createHarness({ repositories: [repo.dir] });
    await h.service.load();
  }, 120_000);

  afterAll(async () => {
    await h?.service.close();
    await repo?.cleanup();
  });

  it('serves every version directory by default; no version means the highest (numerically)', async () => {
    expect((await h.service.modelMetadata('every')).versions).toEqual(['1', '2', '10']);
    expect(await run('every')).toEqual({ version: '10', added: 10 });
    expect(await run('every', '2')).toEqual({ version: '2', added: 2 });
    expect(await run('every', '1')).toEqual({ version: '1', added: 1 });
    expect(await h.service.modelReady('every', '2')).toBe(true);
  });

  it('latest N serves the N highest versions', async () => {
    expect((await h.service.modelMetadata('latest2')).versions).toEqual(['2', '3']);
    expect(await run('latest2')).toEqual({ version: '3', added: 3 });
    expect(await run('latest2', '2')).toEqual({ version: '2', added: 2 });
    const err = await codeOf(run('latest2', '1'));
    expect(err.code).toBe('SIBYL_MODEL_VERSION_NOT_FOUND');
    expect(err.message).toBe("unknown version '1' of model 'latest2': its version_policy (latest 2) does not serve it; available versions: 2, 3");
    expect((await h.service.repositoryIndex()).filter((r) => r.name === 'latest2').map((r) => r.version)).toEqual(['2', '3']);
  });

  it('specific serves the versions it names; a named version without a directory is UNAVAILABLE', async () => {
    expect((await h.service.modelMetadata('specific')).versions).toEqual(['1', '3']);
    expect(await run('specific')).toEqual({ version: '3', added: 3 });
    expect((await codeOf(run('specific', '2'))).message).toContain('its version_policy (specific [1, 3, 5]) does not serve it');
    const rows = (await h.service.repositoryIndex()).filter((r) => r.name === 'specific');
    expect(rows.map((r) => [r.version, r.state])).toEqual([
      ['1', 'READY'],
      ['3', 'READY'],
      ['5', 'UNAVAILABLE'],
    ]);
    expect(rows[2]!.reason).toContain("model 'specific' version 5: version_policy names it but");
    const err = await codeOf(run('specific', '5'));
    expect(err.code).toBe('SIBYL_MODEL_NOT_READY');
  });

  it('a request without a version goes to the highest version that is ready', async () => {
    expect((await h.service.modelMetadata('top-broken')).versions).toEqual(['1', '2']);
    expect(await run('top-broken')).toEqual({ version: '2', added: 2 });
    expect(await h.service.modelReady('top-broken')).toBe(true);
    expect(await h.service.modelReady('top-broken', '3')).toBe(false);
    expect((await codeOf(run('top-broken', '3'))).code).toBe('SIBYL_MODEL_NOT_READY');
    expect((await codeOf(h.service.modelMetadata('top-broken', '3'))).code).toBe('SIBYL_MODEL_NOT_READY');
  });

  it('unknown versions are NOT_FOUND, naming model and version', async () => {
    const missing = await codeOf(run('every', '7'));
    expect(missing.code).toBe('SIBYL_MODEL_VERSION_NOT_FOUND');
    expect(missing.message).toBe("unknown version '7' of model 'every': the model has no such version directory; available versions: 1, 2, 10");
    expect((await codeOf(run('every', 'latest'))).message).toContain("unknown version 'latest' of model 'every': a version is a positive integer");
    expect((await codeOf(run('every', '01'))).code).toBe('SIBYL_MODEL_VERSION_NOT_FOUND');
    expect((await codeOf(h.service.modelMetadata('every', '7'))).code).toBe('SIBYL_MODEL_VERSION_NOT_FOUND');
    expect((await codeOf(h.service.modelReady('every', '7'))).code).toBe('SIBYL_MODEL_VERSION_NOT_FOUND');
    expect((await codeOf(h.service.modelConfig('every', '7'))).code).toBe('SIBYL_MODEL_VERSION_NOT_FOUND');
    expect((await codeOf(run('nothing'))).code).toBe('SIBYL_MODEL_NOT_FOUND');
  });

  it('an empty version string means no version, as in the gRPC protocol', async () => {
    expect(await run('every', '')).toEqual({ version: '10', added: 10 });
    expect(await h.service.modelReady('every', '')).toBe(true);
  });
});
