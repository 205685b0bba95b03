import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics, type SibylMetrics } from '@sibyl/observability';
import { createLocalInferenceService, type LocalInferenceService } from '@sibyl/runtime';
import { identityModel, writeModelRepository } from '@sibyl/testkit';
import { captureLogger } from './fake-inference-service.fixture.js';
import { createRestServer } from './rest-server.js';
import { SERVER_EXTENSIONS } from './server-extensions.js';

// The REST edge over real sockets in front of the real data plane, with models that batch dynamically:
// what a client sees of a full queue and of a request that expired in it.
let dir: string;
let service: LocalInferenceService;
let metrics: SibylMetrics;
let rest: FastifyInstance;
let base: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sibyl-gateway-batching-'));
  const model = (name: string) => identityModel(name, [{ name: 'x', datatype: 'FP32', shape: [-1, 2] }]);
  await writeModelRepository(dir, [
    {
      name: 'narrow',
      versions: { '1': model('narrow') },
      config: { max_batch_size: 8, dynamic_batching: { preferred_batch_size: [8], max_queue_delay_microseconds: 1_000_000, default_queue_policy: { max_queue_size: 1 } } },
    },
    {
      name: 'hurried',
      versions: { '1': model('hurried') },
      config: {
        max_batch_size: 8,
        dynamic_batching: { preferred_batch_size: [8], max_queue_delay_microseconds: 30_000_000, default_queue_policy: { default_timeout_microseconds: 50_000 } },
      },
    },
  ]);
  const { logger } = captureLogger();
  metrics = createMetrics({ processMetrics: false });
  service = createLocalInferenceService({ repositories: [dir], logger, metrics, serverVersion: '0.1.0', extensions: SERVER_EXTENSIONS });
  await service.load();
  rest = createRestServer({ service, logger, metrics });
  await rest.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(rest.server.address() as AddressInfo).port}`;
}, 60_000);

afterAll(async () => {
  await rest?.close();
  await service?.close();
  await rm(dir, { recursive: true, force: true });
});

const infer = (model: string, value: number) =>
  fetch(`${base}/v2/models/${model}/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [value, value] }] }),
  });

async function counter(name: string, model: string): Promise<number> {
  const { values } = await metrics.registry.getSingleMetric(name)!.get();
  return values.find((v) => v.labels['model'] === model)?.value ?? 0;
}

describe('dynamic batching behind the REST edge', () => {
  it('answers 503 with Retry-After when the queue is full; the queued request still gets its answer', async () => {
    // The queue holds one request, and holds it up to 1 s for a fuller batch: the first of these three
    // to arrive waits there, the two others find the queue full.
    const responses = await Promise.all([1, 2, 3].map((v) => infer('narrow', v).then(async (r) => ({ r, v, body: (await r.json()) as Record<string, unknown> }))));
    const served = responses.filter(({ r }) => r.status === 200);
    const refused = responses.filter(({ r }) => r.status !== 200);
    expect(served).toHaveLength(1);
    expect((served[0]!.body['outputs'] as Array<{ data: number[] }>)[0]!.data).toEqual([served[0]!.v, served[0]!.v]);
    expect(refused).toHaveLength(2);
    for (const { r, body } of refused) {
      expect(r.status).toBe(503);
      expect(r.headers.get('retry-after')).toBe('1');
      expect(body['error']).toContain("the queue of model 'narrow' is full with 1 requests");
    }
    expect(await counter('sibyl_batcher_rejected_total', 'narrow')).toBe(2);
    expect(await counter('nv_inference_exec_count', 'narrow')).toBe(1);
  });

  it('answers 504 for a request whose queue timeout passed; the model never ran it', async () => {
    const response = await infer('hurried', 3);
    expect(response.status).toBe(504);
    expect(((await response.json()) as { error: string }).error).toContain('deadline exceeded while queued in the dynamic batcher');
    expect(await counter('sibyl_batcher_expired_total', 'hurried')).toBe(1);
    expect(await counter('nv_inference_exec_count', 'hurried')).toBe(0);
  });
});
