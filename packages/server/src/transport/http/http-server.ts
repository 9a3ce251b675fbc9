import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import type { AppServices } from '../../app/services.js';
import type { AloftMetrics } from '../../observability/metrics.js';
import { requireBearerToken } from './auth.js';
import { registerErrorHandler } from './error-handler.js';
import { healthRoutes } from './health-routes.js';
import { deviceRoutes } from './mgmt/device-routes.js';
import { deviceUpgradeRoutes } from './mgmt/device-upgrade-routes.js';
import { eventStreamRoutes } from './mgmt/event-stream-routes.js';
import { firmwareRoutes } from './mgmt/firmware-routes.js';
import { jobRoutes } from './mgmt/job-routes.js';
import { productRoutes } from './mgmt/product-routes.js';
import { tokenRoutes } from './mgmt/token-routes.js';
import { webhookRoutes } from './mgmt/webhook-routes.js';

export interface HttpServerOptions {
  services: AppServices;
  metrics: AloftMetrics;
  logger: FastifyBaseLogger;
  readiness(): Promise<string | undefined>;
  /** Device-facing routes (downloads), registered outside the authenticated API. */
  devicePlugins?: FastifyPluginAsync[];
  /** More operator routes under /api/v1 (firmware, jobs…), registered behind the bearer token. */
  mgmtPlugins?: FastifyPluginAsync<{ services: AppServices }>[];
}

/**
 * The HTTP server: operator API under /api/v1 (bearer token, OpenAPI at /docs/json, Swagger UI at /docs),
 * device downloads under /download, and health/metrics. Device-facing and operator-facing routes stay apart.
 */
export async function buildHttpServer(options: HttpServerOptions): Promise<FastifyInstance> {
  const base: FastifyInstance = Fastify({
    loggerInstance: options.logger,
    // Management JSON bodies stay small; uploads stream through multipart with their own limit.
    bodyLimit: 1024 * 1024,
    ajv: { customOptions: { coerceTypes: 'array', removeAdditional: false } },
  });
  registerErrorHandler(base);
  const app = base.withTypeProvider<TypeBoxTypeProvider>();

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Aloft API',
        version: '0.1.0',
        description: 'Self-hosted OTA firmware updates for MQTT device fleets.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(healthRoutes, { metrics: options.metrics, readiness: options.readiness });
  for (const plugin of options.devicePlugins ?? []) await app.register(plugin);

  await app.register(
    async (api) => {
      requireBearerToken(api, options.services.tokens);
      const pluginOptions = { services: options.services };
      await api.register(productRoutes, pluginOptions);
      await api.register(deviceRoutes, pluginOptions);
      await api.register(tokenRoutes, pluginOptions);
      await api.register(firmwareRoutes, pluginOptions);
      await api.register(jobRoutes, pluginOptions);
      await api.register(deviceUpgradeRoutes, pluginOptions);
      await api.register(eventStreamRoutes, pluginOptions);
      await api.register(webhookRoutes, pluginOptions);
      for (const plugin of options.mgmtPlugins ?? []) await api.register(plugin, pluginOptions);
    },
    { prefix: '/api/v1' },
  );
  return base;
}
