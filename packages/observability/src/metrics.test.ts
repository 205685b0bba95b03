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

describe('transport histogram', () => {
  it('writes cumulative buckets, sum and count per protocol in the Prometheus format', async () => {
    const m = createMetrics({ processMetrics: false });
    m.observeTransport('rest', 0.00005);
    m.observeTransport('rest', 0.0003);
    m.observeTransport('rest', 7);
    m.observeTransport('grpc', 0.002);
    const text = await m.registry.metrics();
    expect(text).toContain('# TYPE sibyl_transport_request_duration_seconds histogram');
    expect(text).toContain('sibyl_transport_request_duration_seconds_bucket{le="0.0001",protocol="rest"} 1');
    expect(text).toContain('sibyl_transport_request_duration_seconds_bucket{le="0.0005",protocol="rest"} 2');
    expect(text).toContain('sibyl_transport_request_duration_seconds_bucket{le="5",protocol="rest"} 2');
    expect(text).toContain('sibyl_transport_request_duration_seconds_bucket{le="+Inf",protocol="rest"} 3');
    expect(text).toContain('sibyl_transport_request_duration_seconds_count{protocol="rest"} 3');
    expect(text).toMatch(/sibyl_transport_request_duration_seconds_sum\{protocol="rest"\} 7\.00035$/m);
    expect(text).toContain('sibyl_transport_request_duration_seconds_bucket{le="0.0025",protocol="grpc"} 1');
    const json = await m.registry.getMetricsAsJSON();
    expect(json.map((x) => x.name)).toContain('sibyl_transport_request_duration_seconds');
  });
});
