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
