import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { UploadFirmwareInput } from '../../../app/firmware-service.js';
import type { Firmware } from '../../../app/ports/firmware-repository.js';
import type { AppServices } from '../../../app/services.js';
import { AloftError } from '../../../errors.js';
import { errorResponses, PageQuery, page } from './schemas.js';

const FirmwareSchema = Type.Object({
  id: Type.Integer(),
  productKey: Type.String(),
  module: Type.String(),
  version: Type.String(),
  description: Type.String(),
  sourceVersions: Type.Array(Type.String()),
  fileName: Type.String(),
  size: Type.Integer(),
  md5: Type.Union([Type.String(), Type.Null()]),
  sha256: Type.Union([Type.String(), Type.Null()]),
  externalUrl: Type.Union([Type.String(), Type.Null()]),
  signature: Type.Union([Type.String(), Type.Null()]),
  verifyState: Type.String(),
  verifyDetail: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.Integer(),
});

const VerifyStateSchema = Type.Union(
  ['unverified', 'verifying', 'verified', 'verify_failed'].map((s) => Type.Literal(s)),
);

function view(firmware: Firmware) {
  const { blobKey: _internal, ...rest } = firmware;
  return rest;
}

/** Text fields of the upload form, in the order they must precede the file part. */
const UPLOAD_FIELDS = ['module', 'version', 'description', 'sourceVersions', 'md5', 'sha256'] as const;

export const firmwareRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (
  app,
  { services },
) => {
  await app.register(multipart, {
    // Files stream to the blob store; the service enforces the size limit itself with a clear error.
    limits: { fileSize: Number.MAX_SAFE_INTEGER, files: 1, fields: 20, fieldSize: 64 * 1024 },
  });

  app.post(
    '/products/:productKey/firmware',
    {
      schema: {
        tags: ['firmware'],
        summary: 'Upload a firmware package (multipart, streamed)',
        description:
          'multipart/form-data with text fields `version` (required), `module` (default `default`), `description`, `sourceVersions` (comma-separated), `md5`, `sha256` (expected digests: a mismatch rejects the upload and keeps nothing), then the `file` part LAST. The file is streamed to storage while size, md5 and sha256 are computed; it is never held in memory.',
        consumes: ['multipart/form-data'],
        params: Type.Object({ productKey: Type.String() }),
        response: {
          201: FirmwareSchema,
          413: errorResponses[400],
          422: errorResponses[400],
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      if (!request.isMultipart()) {
        throw new AloftError('FIRMWARE_UPLOAD_INVALID', ['send multipart/form-data with the file part last']);
      }
      const file = await request.file();
      if (!file) throw new AloftError('FIRMWARE_UPLOAD_INVALID', ['no file part in the upload']);
      const field = (name: (typeof UPLOAD_FIELDS)[number]): string | undefined => {
        const value = file.fields[name];
        const single = Array.isArray(value) ? value[0] : value;
        return single && 'value' in single && typeof single.value === 'string' && single.value !== ''
          ? single.value
          : undefined;
      };
      const version = field('version');
      if (!version) {
        file.file.resume();
        throw new AloftError('FIRMWARE_UPLOAD_INVALID', [
          'field "version" is required and must come before the file part',
        ]);
      }
      const input: UploadFirmwareInput = {
        productKey: request.params.productKey,
        version,
        fileName: file.filename || `${version}.bin`,
      };
      const module = field('module');
      const description = field('description');
      const sources = field('sourceVersions');
      const md5 = field('md5');
      const sha256 = field('sha256');
      if (module) input.module = module;
      if (description) input.description = description;
      if (sources)
        input.sourceVersions = sources
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
      if (md5) input.expectedMd5 = md5;
      if (sha256) input.expectedSha256 = sha256;
      try {
        await services.firmware.precheck(input);
      } catch (error) {
        file.file.resume();
        throw error;
      }
      return reply.status(201).send(view(await services.firmware.upload(input, file.file)));
    },
  );

  app.post(
    '/products/:productKey/firmware/external',
    {
      schema: {
        tags: ['firmware'],
        summary: 'Register an externally hosted package',
        description:
          'For a file already on your own file server: tasks carry this URL unchanged. Give md5 and/or sha256; with `check: true` the server downloads it once and verifies size and digests.',
        params: Type.Object({ productKey: Type.String() }),
        body: Type.Object(
          {
            version: Type.String(),
            module: Type.Optional(Type.String()),
            description: Type.Optional(Type.String()),
            sourceVersions: Type.Optional(Type.Array(Type.String())),
            url: Type.String(),
            size: Type.Integer({ minimum: 1 }),
            md5: Type.Optional(Type.String()),
            sha256: Type.Optional(Type.String()),
            check: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
        response: { 201: FirmwareSchema, ...errorResponses },
      },
    },
    async (request, reply) =>
      reply.status(201).send(
        view(
          await services.firmware.registerExternal({
            ...request.body,
            productKey: request.params.productKey,
          }),
        ),
      ),
  );

  app.get(
    '/firmware',
    {
      schema: {
        tags: ['firmware'],
        summary: 'List firmware packages',
        querystring: Type.Object({
          productKey: Type.Optional(Type.String()),
          module: Type.Optional(Type.String()),
          verifyState: Type.Optional(VerifyStateSchema),
          ...PageQuery,
        }),
        response: { 200: page(FirmwareSchema), ...errorResponses },
      },
    },
    async (request) => {
      const q = request.query;
      const result = await services.firmware.list({
        ...(q.productKey !== undefined ? { productKey: q.productKey } : {}),
        ...(q.module !== undefined ? { module: q.module } : {}),
        ...(q.verifyState !== undefined ? { verifyState: q.verifyState as Firmware['verifyState'] } : {}),
        limit: q.limit,
        offset: q.offset,
      });
      return { items: result.items.map(view), total: result.total };
    },
  );

  const IdParams = Type.Object({ firmwareId: Type.Integer() });

  app.get(
    '/firmware/:firmwareId',
    {
      schema: {
        tags: ['firmware'],
        summary: 'Show a firmware package',
        params: IdParams,
        response: { 200: FirmwareSchema, ...errorResponses },
      },
    },
    async (request) => view(await services.firmware.get(request.params.firmwareId)),
  );

  app.get(
    '/firmware/:firmwareId/file',
    { schema: { tags: ['firmware'], summary: 'Download a package (operators)', params: IdParams } },
    async (request, reply) => {
      const { firmware, stream } = await services.firmware.open(request.params.firmwareId);
      return reply
        .header('content-type', 'application/octet-stream')
        .header('content-length', firmware.size)
        .header('content-disposition', `attachment; filename="${firmware.fileName.replace(/["\\]/g, '_')}"`)
        .send(stream);
    },
  );

  app.post(
    '/firmware/:firmwareId/download-url',
    {
      schema: {
        tags: ['firmware'],
        summary: 'A signed device download URL',
        description:
          'The URL a device would receive in a task now (signed, expiring), for checks and external tools.',
        params: IdParams,
        response: { 200: Type.Object({ url: Type.String() }), ...errorResponses },
      },
    },
    async (request) => services.firmware.downloadUrl(request.params.firmwareId),
  );

  app.delete(
    '/firmware/:firmwareId',
    {
      schema: {
        tags: ['firmware'],
        summary: 'Delete a package',
        description: 'Refused (409) while an unfinished job uses it; otherwise removes the file too.',
        params: IdParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await services.firmware.delete(request.params.firmwareId);
      return reply.status(204).send(null);
    },
  );
};
