import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppServices } from '../../../app/services.js';
import { DialectSchema, errorResponses, ProductSchema } from './schemas.js';

export const productRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (
  app,
  { services },
) => {
  app.post(
    '/products',
    {
      schema: {
        tags: ['products'],
        summary: 'Create a product',
        description:
          'A product groups devices that speak one MQTT dialect. With `signing`, its firmware is signed (ed25519).',
        body: Type.Object(
          {
            key: Type.String({
              pattern: '^[A-Za-z0-9_-]{1,64}$',
              description: 'product key / productId / productName',
            }),
            name: Type.String({ minLength: 1, maxLength: 200 }),
            dialect: DialectSchema,
            signing: Type.Optional(Type.Boolean({ default: false })),
          },
          { additionalProperties: false },
        ),
        response: { 201: ProductSchema, ...errorResponses },
      },
    },
    async (request, reply) => reply.status(201).send(await services.products.create(request.body)),
  );

  app.get(
    '/products',
    {
      schema: { tags: ['products'], summary: 'List products', response: { 200: Type.Array(ProductSchema) } },
    },
    async () => services.products.list(),
  );

  app.get(
    '/products/:productKey',
    {
      schema: {
        tags: ['products'],
        summary: 'Show a product',
        params: Type.Object({ productKey: Type.String() }),
        response: { 200: ProductSchema, ...errorResponses },
      },
    },
    async (request) => services.products.get(request.params.productKey),
  );

  app.get(
    '/products/:productKey/versions',
    {
      schema: {
        tags: ['products'],
        summary: 'Version distribution',
        description: 'How many devices of the product run each version, per module.',
        params: Type.Object({ productKey: Type.String() }),
        querystring: Type.Object({ module: Type.Optional(Type.String()) }),
        response: {
          200: Type.Array(
            Type.Object({ module: Type.String(), version: Type.String(), devices: Type.Integer() }),
          ),
          ...errorResponses,
        },
      },
    },
    async (request) => services.devices.versionDistribution(request.params.productKey, request.query.module),
  );
};
