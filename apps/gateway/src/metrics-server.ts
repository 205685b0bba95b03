/**
 * Prometheus scrape endpoint, `GET /metrics`, on its own port (Triton's 8002) so scrapes never queue
 * behind inference traffic and the port can be firewalled apart.
 */
import Fastify, { type FastifyInstance } from 'fastify';

/** What the server needs of a prom-client Registry (SibylMetrics.registry is one). */
export interface MetricsRegistry {
  /** The exposition format's Content-Type, e.g. `text/plain; version=0.0.4; charset=utf-8`. */
  readonly contentType: string;
  metrics(): Promise<string>;
}

export interface MetricsServerOptions {
  registry: MetricsRegistry;
}

export function createMetricsServer(options: MetricsServerOptions): FastifyInstance {
  const app = Fastify({ logger: false });
  const { registry } = options;
  app.get('/metrics', async (_request, reply) => {
    const text = await registry.metrics();
    return reply.header('content-type', registry.contentType).send(text);
  });
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ error: 'Not Found' }));
  return app;
}
