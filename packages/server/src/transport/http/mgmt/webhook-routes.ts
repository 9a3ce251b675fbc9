import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppServices } from '../../../app/services.js';
import { errorResponses, PageQuery, page } from './schemas.js';

const Nullable = <T extends ReturnType<typeof Type.Integer | typeof Type.String>>(t: T) =>
  Type.Union([t, Type.Null()]);
const UpgradeStateSchema = Type.Union([
  Type.Literal('queued'),
  Type.Literal('notified'),
  Type.Literal('downloading'),
  Type.Literal('installing'),
  Type.Literal('succeeded'),
  Type.Literal('failed'),
  Type.Literal('timed_out'),
  Type.Literal('cancelled'),
]);
const DeliveryStateSchema = Type.Union([
  Type.Literal('pending'),
  Type.Literal('delivered'),
  Type.Literal('failed'),
]);

const WebhookSchema = Type.Object({
  id: Type.Integer(),
  url: Type.String(),
  jobId: Nullable(Type.Integer()),
  states: Type.Array(UpgradeStateSchema, { description: 'empty = every event' }),
  cursor: Type.Integer({ description: 'last event id queued for this webhook' }),
  createdAt: Type.Integer(),
});
const CreatedWebhookSchema = Type.Intersect([
  WebhookSchema,
  Type.Object({ secret: Type.String({ description: 'HMAC key of X-Aloft-Signature; shown once' }) }),
]);
const WebhookDetailSchema = Type.Intersect([
  WebhookSchema,
  Type.Object({
    deliveries: Type.Object({ pending: Type.Integer(), delivered: Type.Integer(), failed: Type.Integer() }),
  }),
]);
const DeliverySchema = Type.Object({
  id: Type.Integer(),
  webhookId: Type.Integer(),
  eventId: Type.Integer({ description: '0 for a test ping' }),
  eventType: Type.String(),
  state: DeliveryStateSchema,
  attempts: Type.Integer(),
  nextAttemptAt: Type.Integer({ description: 'epoch ms of the next attempt (pending)' }),
  lastStatus: Nullable(Type.Integer({ description: 'HTTP status of the last attempt' })),
  lastError: Nullable(Type.String()),
  createdAt: Type.Integer(),
  deliveredAt: Nullable(Type.Integer()),
  body: Type.String({ description: 'the JSON text sent and signed' }),
});
const IdParams = Type.Object({ webhookId: Type.Integer() });

/** Webhooks: subscribe a URL to upgrade events; see every delivery attempt. */
export const webhookRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (
  app,
  { services },
) => {
  const { webhooks } = services;

  app.post(
    '/webhooks',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'Subscribe a URL to upgrade events',
        description:
          'Events from now on are POSTed as JSON with `X-Aloft-Event`, `X-Aloft-Delivery`, `X-Aloft-Timestamp` and `X-Aloft-Signature: sha256=<hex HMAC-SHA256(secret, body)>`. Any 2xx is a delivery; otherwise it is retried with exponential backoff. The secret is generated when not given and shown only in this response.',
        body: Type.Object(
          {
            url: Type.String({ maxLength: 2048, description: 'http:// or https://' }),
            secret: Type.Optional(Type.String({ minLength: 16, maxLength: 256 })),
            jobId: Type.Optional(Type.Integer({ description: 'only events of this job' })),
            states: Type.Optional(
              Type.Array(UpgradeStateSchema, {
                maxItems: 20,
                description: 'only transitions into these states; default all',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 201: CreatedWebhookSchema, ...errorResponses },
      },
    },
    async (request, reply) =>
      reply.status(201).send(
        await webhooks.create({
          url: request.body.url,
          ...(request.body.secret !== undefined ? { secret: request.body.secret } : {}),
          ...(request.body.jobId !== undefined ? { jobId: request.body.jobId } : {}),
          ...(request.body.states !== undefined ? { states: request.body.states } : {}),
        }),
      ),
  );

  app.get(
    '/webhooks',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'List webhooks',
        response: { 200: page(WebhookSchema), ...errorResponses },
      },
    },
    async () => {
      const items = await webhooks.list();
      return { items, total: items.length };
    },
  );

  app.get(
    '/webhooks/:webhookId',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'A webhook, with delivery counts per state',
        params: IdParams,
        response: { 200: WebhookDetailSchema, ...errorResponses },
      },
    },
    async (request) => webhooks.get(request.params.webhookId),
  );

  app.delete(
    '/webhooks/:webhookId',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'Delete a webhook and its deliveries',
        params: IdParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await webhooks.remove(request.params.webhookId);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/webhooks/:webhookId/deliveries',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'Deliveries of a webhook, newest first',
        description: 'Each with its state, attempts, last HTTP status, last error and next attempt time.',
        params: IdParams,
        querystring: Type.Object({ state: Type.Optional(DeliveryStateSchema), ...PageQuery }),
        response: { 200: page(DeliverySchema), ...errorResponses },
      },
    },
    async (request) => {
      const { state, limit, offset } = request.query;
      return webhooks.deliveries(request.params.webhookId, {
        ...(state !== undefined ? { state } : {}),
        limit,
        offset,
      });
    },
  );

  app.post(
    '/webhooks/:webhookId/test',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'Send a test ping',
        description:
          'Queues a signed `{"type":"ping"}` delivery (`X-Aloft-Event: ping`), retried like any other.',
        params: IdParams,
        response: { 202: DeliverySchema, ...errorResponses },
      },
    },
    async (request, reply) => reply.status(202).send(await webhooks.test(request.params.webhookId)),
  );

  app.post(
    '/webhooks/:webhookId/deliveries/:deliveryId/redeliver',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'Send a delivery again',
        description: 'A delivered or failed delivery becomes pending again with a fresh attempt count.',
        params: Type.Object({ webhookId: Type.Integer(), deliveryId: Type.Integer() }),
        response: { 202: DeliverySchema, ...errorResponses },
      },
    },
    async (request, reply) =>
      reply.status(202).send(await webhooks.redeliver(request.params.webhookId, request.params.deliveryId)),
  );
};
