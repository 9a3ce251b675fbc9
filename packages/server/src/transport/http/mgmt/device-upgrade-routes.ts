import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppServices } from '../../../app/services.js';
import { TransitionSchema, UpgradeSchema } from './job-schemas.js';
import { errorResponses } from './schemas.js';

const DeviceParams = Type.Object({ productKey: Type.String(), deviceName: Type.String() });

export const deviceUpgradeRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (
  app,
  { services },
) => {
  app.get(
    '/products/:productKey/devices/:deviceName/upgrade',
    {
      schema: {
        tags: ['devices'],
        summary: 'A device’s upgrade status',
        description:
          'State, progress, error, target and current version of the latest upgrade of one module.',
        params: DeviceParams,
        querystring: Type.Object({ module: Type.Optional(Type.String()) }),
        response: {
          200: Type.Object({
            device: Type.String(),
            module: Type.String(),
            currentVersion: Type.Union([Type.String(), Type.Null()]),
            upgrade: Type.Union([UpgradeSchema, Type.Null()]),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) =>
      services.jobs.deviceStatus(request.params.productKey, request.params.deviceName, request.query.module),
  );

  app.get(
    '/products/:productKey/devices/:deviceName/upgrades',
    {
      schema: {
        tags: ['devices'],
        summary: 'A device’s upgrade history',
        description: 'Every attempt, newest first, with every transition and its time.',
        params: DeviceParams,
        querystring: Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 200, default: 20 }) }),
        response: {
          200: Type.Array(
            Type.Intersect([UpgradeSchema, Type.Object({ transitions: Type.Array(TransitionSchema) })]),
          ),
          ...errorResponses,
        },
      },
    },
    async (request) =>
      services.jobs.deviceHistory(request.params.productKey, request.params.deviceName, request.query.limit),
  );
};
