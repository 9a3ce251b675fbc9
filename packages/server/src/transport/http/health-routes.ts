import type { FastifyInstance } from 'fastify';
import type { AloftMetrics } from '../../observability/metrics.js';

export interface HealthOptions {
  metrics: AloftMetrics;
  /** Throws or returns a reason when the instance cannot serve (database or broker unreachable). */
  readiness(): Promise<string | undefined>;
}

/** Liveness, readiness and Prometheus metrics; unauthenticated, as probes and scrapers expect. */
export async function healthRoutes(app: FastifyInstance, options: HealthOptions): Promise<void> {
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
    let reason: string | undefined;
    try {
      reason = await options.readiness();
    } catch (error) {
      reason = (error as Error).message;
    }
    return reason ? reply.status(503).send({ status: 'unavailable', reason }) : { status: 'ready' };
  });
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) =>
    reply.type(options.metrics.registry.contentType).send(await options.metrics.registry.metrics()),
  );
}
