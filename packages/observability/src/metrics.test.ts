import { describe, expect, it } from 'vitest';
import { createMetrics } from './metrics.js';

describe('createMetrics', () => {
  it("exposes Triton's metric names with model and version labels", async () => {
    const m = createMetrics({ processMetrics: false });
    m.inferenceSucceeded('iris', '1', { batchSize: 4, requestUs: 120, queueUs: 5, computeUs: 40 });
    m.executed('iris', '1');
    m.inferenceFailed('iris', '1', 'REJECTED');
    const text = await m.registry.metrics();
    expect(text).toContain('nv_inference_request_success{model="iris",version="1"} 1');
    expect(text).toContain('nv_inference_count{model="iris",version="1"} 4');
    expect(text).toContain('nv_inference_exec_count{model="iris",version="1"} 1');
    expect(text).toContain('nv_inference_request_duration_us{model="iris",version="1"} 120');
    expect(text).toContain('nv_inference_queue_duration_us{model="iris",version="1"} 5');
    expect(text).toContain('nv_inference_compute_infer_duration_us{model="iris",version="1"} 40');
    expect(text).toContain('nv_inference_request_failure{model="iris",version="1",reason="REJECTED"} 1');
  });
});

describe('accumulated counters', () => {
  it('add up per model version between scrapes, and keep counting after a scrape', async () => {
    const m = createMetrics({ processMetrics: false });
    for (let i = 0; i < 3; i++) m.inferenceSucceeded('a', '1', { batchSize: 2, requestUs: 10, queueUs: 1, computeUs: 5 });
    m.inferenceSucceeded('a', '2', { batchSize: 1, requestUs: 7, queueUs: 0, computeUs: 3 });
    let text = await m.registry.metrics();
    expect(text).toContain('nv_inference_request_success{model="a",version="1"} 3');
    expect(text).toContain('nv_inference_count{model="a",version="1"} 6');
    expect(text).toContain('nv_inference_request_duration_us{model="a",version="1"} 30');
    expect(text).toContain('nv_inference_request_success{model="a",version="2"} 1');
    m.inferenceSucceeded('a', '1', { batchSize: 1, requestUs: 10, queueUs: 1, computeUs: 5 });
    text = await m.registry.metrics();
    expect(text).toContain('nv_inference_request_success{model="a",version="1"} 4');
    expect(text).toContain('nv_inference_compute_infer_duration_us{model="a",version="1"} 20');
  });
});
