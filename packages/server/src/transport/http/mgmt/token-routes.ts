import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppServices } from '../../../app/services.js';
import { errorResponses } from './schemas.js';

export const tokenRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (
  app,
  { services },
) => {
  app.post(
    '/tokens',
    {
      schema: {
        tags: ['tokens'],
        summary: 'Create an API token',
        description: 'The token is shown only in this response; the server keeps its hash.',
        body: Type.Object(
          { name: Type.String({ minLength: 1, maxLength: 100 }) },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({ id: Type.Integer(), name: Type.String(), token: Type.String() }),
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const { token, record } = await services.tokens.create(request.body.name);
      return reply.status(201).send({ id: record.id, name: record.name, token });
    },
  );
};
