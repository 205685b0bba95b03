/**
 * The committed TensorFlow.js example repository (examples/models) is exactly what
 * build-tf-examples.ts writes (tfjs's CPU backend trains bit-reproducibly: same bytes on every run),
 * its model is small, and it classifies the held-out iris rows.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTfExamples, IRIS_TF, type TfBuildResult } from './build-tf-examples.js';

const COMMITTED = fileURLToPath(new URL('../examples/models', import.meta.url));

describe('examples/models', () => {
  let out: string;
  let result: TfBuildResult;

  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'sibyl-tf-examples-'));
    result = await buildTfExamples(out);
  }, 120_000);

  afterAll(async () => {
    if (out !== undefined) await rm(out, { recursive: true, force: true });
  });

  it('rebuilds byte for byte', async () => {
    expect(result.files).toEqual([`${IRIS_TF}/1/model.json`, `${IRIS_TF}/1/weights.bin`]);
    for (const file of result.files) {
      expect(Buffer.compare(await readFile(join(out, file)), await readFile(join(COMMITTED, file))), file).toBe(0);
    }
  });

  it('is a small layers model that classifies at least 90% of the held-out rows', async () => {
    expect(result.heldOutAccuracy).toBeGreaterThanOrEqual(0.9);
    const json = JSON.parse(await readFile(join(COMMITTED, IRIS_TF, '1', 'model.json'), 'utf8'));
    expect(json.format).toBe('layers-model');
    expect(json.weightsManifest).toEqual([{ paths: ['weights.bin'], weights: expect.any(Array) }]);
    let bytes = 0;
    for (const file of result.files) bytes += (await stat(join(COMMITTED, file))).size;
    expect(bytes).toBeLessThan(50 * 1024);
  });
});
