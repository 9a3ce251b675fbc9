import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { parseDeviceCsv } from '../../../app/device-import.js';
import type { AppServices } from '../../../app/services.js';
import {
  DeviceDetailSchema,
  DeviceInputSchema,
  DeviceSchema,
  errorResponses,
  PageQuery,
  page,
  RegisteredDeviceSchema,
} from './schemas.js';

const ProductParams = Type.Object({ productKey: Type.String() });
const DeviceParams = Type.Object({ productKey: Type.String(), deviceName: Type.String() });

export const deviceRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (
  app,
  { services },
) => {
  // CSV imports arrive as text; keep them as a string for the importer.
  app.addContentTypeParser(
    ['text/csv', 'text/plain'],
    { parseAs: 'string', bodyLimit: 32 * 1024 * 1024 },
    (_r, body, done) => done(null, body),
  );

  app.post(
    '/products/:productKey/devices',
    {
      schema: {
        tags: ['devices'],
        summary: 'Register a device',
        description: 'The secret is generated when not given, and shown only in this response.',
        params: ProductParams,
        body: DeviceInputSchema,
        response: { 201: RegisteredDeviceSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const [device] = await services.devices.register(request.params.productKey, [request.body]);
      return reply.status(201).send(device!);
    },
  );

  app.post(
    '/products/:productKey/devices/import',
    {
      bodyLimit: 32 * 1024 * 1024,
      schema: {
        tags: ['devices'],
        summary: 'Bulk import devices (JSON or CSV)',
        description:
          'JSON `{"devices":[{"name","secret?","tags?"}]}` or `text/csv` with a header row `name,secret,tags` (tags separated by `;`). All or nothing. Secrets are shown only in this response.',
        params: ProductParams,
        body: Type.Union([Type.Object({ devices: Type.Array(DeviceInputSchema) }), Type.String()]),
        response: {
          201: Type.Object({ created: Type.Integer(), devices: Type.Array(RegisteredDeviceSchema) }),
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const rows = typeof request.body === 'string' ? parseDeviceCsv(request.body) : request.body.devices;
      const devices = await services.devices.register(request.params.productKey, rows);
      return reply.status(201).send({ created: devices.length, devices });
    },
  );

  app.get(
    '/products/:productKey/devices',
    {
      schema: {
        tags: ['devices'],
        summary: 'Search devices',
        params: ProductParams,
        querystring: Type.Object({
          version: Type.Optional(Type.String({ description: 'current version of `module`' })),
          module: Type.Optional(Type.String({ default: 'default' })),
          tag: Type.Optional(Type.String()),
          online: Type.Optional(Type.Boolean()),
          search: Type.Optional(Type.String({ description: 'substring of the device name' })),
          ...PageQuery,
        }),
        response: { 200: page(DeviceSchema), ...errorResponses },
      },
    },
    async (request) => {
      await services.products.get(request.params.productKey);
      const q = request.query;
      return services.devices.list({
        productKey: request.params.productKey,
        ...(q.version !== undefined ? { version: q.version, module: q.module ?? 'default' } : {}),
        ...(q.tag !== undefined ? { tag: q.tag } : {}),
        ...(q.online !== undefined ? { online: q.online } : {}),
        ...(q.search ? { search: q.search } : {}),
        limit: q.limit,
        offset: q.offset,
      });
    },
  );

  app.get(
    '/products/:productKey/devices/:deviceName',
    {
      schema: {
        tags: ['devices'],
        summary: 'Device detail',
        description: 'Versions per module with their report time, online state and last seen time.',
        params: DeviceParams,
        response: { 200: DeviceDetailSchema, ...errorResponses },
      },
    },
    async (request) => services.devices.detail(request.params.productKey, request.params.deviceName),
  );

  app.put(
    '/products/:productKey/devices/:deviceName/tags',
    {
      schema: {
        tags: ['devices'],
        summary: 'Replace a device’s tags',
        params: DeviceParams,
        body: Type.Object(
          { tags: Type.Array(Type.String(), { maxItems: 20 }) },
          { additionalProperties: false },
        ),
        response: { 200: DeviceDetailSchema, ...errorResponses },
      },
    },
    async (request) =>
      services.devices.setTags(request.params.productKey, request.params.deviceName, request.body.tags),
  );

  app.delete(
    '/products/:productKey/devices/:deviceName',
    {
      schema: {
        tags: ['devices'],
        summary: 'Delete a device',
        params: DeviceParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await services.devices.delete(request.params.productKey, request.params.deviceName);
      return reply.status(204).send(null);
    },
  );
};
