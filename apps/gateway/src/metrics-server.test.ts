import { describe, expect, it } from 'vitest';
import { createMetrics } from '@sibyl/observability';
import { createMetricsServer } from './metrics-server.js';

describe('createMetricsServer', () => {
  it('serves the registry in the Prometheus text format at GET /metrics', async () => {
    const metrics = createMetrics({ processMetrics: false });
    metrics.inferenceSucceeded('iris', '1', { batchSize: 2, requestUs: 50, queueUs: 1, computeUs: 20 });
    const app = createMetricsServer({ registry: metrics.registry });
    try {
      const res = await app.inject({ method: 'GET', url: '/metrics' });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe(metrics.registry.contentType);
      expect(res.body).toContain('# TYPE nv_inference_count counter');
      expect(res.body).toContain('nv_inference_count{model="iris",version="1"} 2');
      expect((await app.inject({ method: 'GET', url: '/v2/health/live' })).statusCode).toBe(404);
    } finally {
      await app.close();
    }
  });
});
