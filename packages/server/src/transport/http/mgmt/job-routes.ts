import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { JOB_TABS, type JobTab } from '../../../app/jobs/job-monitor.js';
import type { AppServices } from '../../../app/services.js';
import type { JobState } from '../../../domain/index.js';
import {
  JobDetailSchema,
  JobSchema,
  StrategySchema,
  TargetsSchema,
  UpgradeRowSchema,
} from './job-schemas.js';
import { CursorPageQuery, cursorPage, cursorPageOf, errorResponses, PageQuery, page } from './schemas.js';

const IdParams = Type.Object({ jobId: Type.Integer() });
const JobOptions = {
  name: Type.Optional(Type.String({ maxLength: 200 })),
  strategy: Type.Optional(StrategySchema),
  supersede: Type.Optional(
    Type.Boolean({
      description: 'cancel other active upgrades of the same devices and module instead of skipping them',
    }),
  ),
};
const created = { 201: JobSchema, ...errorResponses };

export const jobRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (app, { services }) => {
  const { jobs, monitor } = services;
  // Device lists arrive as text. Content-type parsers are scoped to the plugin that adds them, so the device
  // routes' parser does not reach this one: without its own, Fastify answers 415.
  app.addContentTypeParser(
    ['text/csv', 'text/plain'],
    { parseAs: 'string', bodyLimit: 32 * 1024 * 1024 },
    (_request, body, done) => done(null, body),
  );

  app.post(
    '/jobs/single',
    {
      schema: {
        tags: ['jobs'],
        summary: 'Upgrade one device',
        description:
          'Refused with 409 if the device already has an active upgrade of the module, unless `supersede`.',
        body: Type.Object(
          { firmwareId: Type.Integer(), deviceName: Type.String(), ...JobOptions },
          { additionalProperties: false },
        ),
        response: created,
      },
    },
    async (request, reply) => reply.status(201).send(await jobs.createSingle(request.body)),
  );

  app.post(
    '/jobs/verify',
    {
      schema: {
        tags: ['jobs'],
        summary: 'Verify a package on test devices',
        description:
          'When every test device succeeds the package becomes `verified`; any failure makes it `verify_failed`.',
        body: Type.Object(
          {
            firmwareId: Type.Integer(),
            deviceNames: Type.Array(Type.String(), { minItems: 1, maxItems: 1000 }),
            ...JobOptions,
          },
          { additionalProperties: false },
        ),
        response: created,
      },
    },
    async (request, reply) => reply.status(201).send(await jobs.createVerify(request.body)),
  );

  const BatchBody = Type.Object(
    {
      firmwareId: Type.Integer(),
      targets: Type.Optional(TargetsSchema),
      dynamic: Type.Optional(
        Type.Boolean({ description: 'also enrol devices that later report a source version' }),
      ),
      allowUnverified: Type.Optional(
        Type.Boolean({ description: 'roll out a package that has not passed verification' }),
      ),
      ...JobOptions,
    },
    { additionalProperties: false },
  );

  app.post(
    '/jobs/batch',
    {
      schema: {
        tags: ['jobs'],
        summary: 'Roll out to many devices',
        description:
          'Targets narrow each other: device names, source versions (default: the package’s), tags (any of), and a random percentage. No targets = every device of the product. Devices already on the target version are skipped and counted.',
        body: BatchBody,
        response: created,
      },
    },
    async (request, reply) => reply.status(201).send(await jobs.createBatch(request.body)),
  );

  app.post(
    '/jobs/batch/device-list',
    {
      bodyLimit: 32 * 1024 * 1024,
      schema: {
        tags: ['jobs'],
        summary: 'Roll out to an uploaded device list',
        description:
          'Body: device names, one per line (text/plain), or CSV with a `name` column (text/csv). Query: firmwareId and the other batch options.',
        querystring: Type.Object({
          firmwareId: Type.Integer(),
          allowUnverified: Type.Optional(Type.Boolean()),
          supersede: Type.Optional(Type.Boolean()),
          name: Type.Optional(Type.String()),
        }),
        body: Type.String(),
        response: created,
      },
    },
    async (request, reply) => {
      const lines = request.body
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter(Boolean);
      const header = lines[0]?.toLowerCase().split(',');
      const nameColumn = header?.includes('name') ? header.indexOf('name') : -1;
      const names = (
        nameColumn >= 0 ? lines.slice(1).map((l) => l.split(',')[nameColumn]?.trim() ?? '') : lines
      ).filter(Boolean);
      const { firmwareId, allowUnverified, supersede, name } = request.query;
      return reply.status(201).send(
        await jobs.createBatch({
          firmwareId,
          targets: { deviceNames: [...new Set(names)] },
          ...(allowUnverified !== undefined ? { allowUnverified } : {}),
          ...(supersede !== undefined ? { supersede } : {}),
          ...(name !== undefined ? { name } : {}),
        }),
      );
    },
  );

  app.post(
    '/jobs/:jobId/retry',
    {
      schema: {
        tags: ['jobs'],
        summary: 'Upgrade the failed devices again',
        description: 'A new `retry` job for the failed and timed-out devices of this job.',
        params: IdParams,
        body: Type.Optional(Type.Object(JobOptions, { additionalProperties: false })),
        response: created,
      },
    },
    async (request, reply) =>
      reply.status(201).send(await jobs.createRetry(request.params.jobId, request.body ?? {})),
  );

  app.get(
    '/jobs',
    {
      schema: {
        tags: ['jobs'],
        summary: 'List jobs',
        querystring: Type.Object({
          productKey: Type.Optional(Type.String()),
          state: Type.Optional(Type.String()),
          kind: Type.Optional(Type.Union(['single', 'verify', 'batch', 'retry'].map((k) => Type.Literal(k)))),
          ...PageQuery,
        }),
        response: { 200: page(JobSchema), ...errorResponses },
      },
    },
    async (request) => {
      const q = request.query;
      return jobs.list({
        ...(q.productKey !== undefined ? { productKey: q.productKey } : {}),
        ...(q.state !== undefined ? { state: q.state as JobState } : {}),
        ...(q.kind !== undefined ? { kind: q.kind as 'single' } : {}),
        limit: q.limit,
        offset: q.offset,
      });
    },
  );

  app.get(
    '/jobs/:jobId',
    {
      schema: {
        tags: ['jobs'],
        summary: 'Job detail',
        description: 'Counts per state and per tab, success rate, throughput and ETA.',
        params: IdParams,
        response: { 200: JobDetailSchema, ...errorResponses },
      },
    },
    async (request) => monitor.detail(await jobs.get(request.params.jobId)),
  );

  app.get(
    '/jobs/:jobId/devices',
    {
      schema: {
        tags: ['jobs'],
        summary: 'Devices of a job, per tab',
        description:
          'In upgrade id order. Page by `offset`, or walk a tab with `after` = the `nextAfter` of the page before, which costs the same at any depth (also with `search`).',
        params: IdParams,
        querystring: Type.Object({
          tab: Type.Union(
            [...Object.keys(JOB_TABS), 'all'].map((t) => Type.Literal(t)),
            { default: 'all' },
          ),
          search: Type.Optional(Type.String({ description: 'device name contains this' })),
          ...CursorPageQuery,
        }),
        response: { 200: cursorPage(UpgradeRowSchema), ...errorResponses },
      },
    },
    async (request) => {
      await jobs.get(request.params.jobId);
      const { tab, search, ...page } = request.query;
      return monitor.devices(request.params.jobId, tab as JobTab | 'all', cursorPageOf(page), search);
    },
  );

  for (const action of ['pause', 'resume', 'cancel'] as const) {
    app.post(
      `/jobs/:jobId/${action}`,
      {
        schema: {
          tags: ['jobs'],
          summary: `${action[0]!.toUpperCase()}${action.slice(1)} a job`,
          params: IdParams,
          response: { 200: JobSchema, ...errorResponses },
        },
      },
      async (request) => jobs[action](request.params.jobId),
    );
  }

  app.post(
    '/upgrades/:upgradeId/cancel',
    {
      schema: {
        tags: ['jobs'],
        summary: 'Cancel one device’s upgrade',
        params: Type.Object({ upgradeId: Type.Integer() }),
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await jobs.cancelUpgrade(request.params.upgradeId);
      return reply.status(204).send(null);
    },
  );
};
