import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import type { EventFilter } from '../../../app/events/upgrade-state-event.js';
import type { AppServices } from '../../../app/services.js';
import { AloftError } from '../../../errors.js';
import { errorResponses } from './schemas.js';

const StreamQuery = Type.Object({
  after: Type.Optional(
    Type.Integer({
      minimum: 0,
      description: 'start after this event id (0 = from the first); default: only events from now on',
    }),
  ),
});
const StreamHeaders = Type.Object({
  'last-event-id': Type.Optional(
    Type.String({ description: 'sent by EventSource on reconnect; wins over `after`' }),
  ),
});
const description =
  '`text/event-stream`. Each event: `id: <event id>` and `data: <JSON>` with `type: "upgrade.state"`, jobId, upgradeId, deviceId, deviceName, productKey, fromState, toState, phase, percent, errorCode, message, at. A `: ping` comment is sent when nothing happened for a while. Reconnect with `Last-Event-ID` (or `?after=`) to resume without loss or duplicates. See docs/events.md.';

/** A stream that is open: how to stop it, and when it has stopped. */
interface OpenStream {
  stop: AbortController;
  done: Promise<void>;
}

/** Server-sent events of the upgrade event feed: all jobs, or one. */
export const eventStreamRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (
  app,
  { services },
) => {
  const open = new Set<OpenStream>();
  // A stream never ends by itself, so the server would wait for it forever on close: end them all first.
  app.addHook('preClose', async () => {
    for (const stream of open) stream.stop.abort();
    await Promise.all([...open].map((s) => s.done));
  });

  const start = (reply: FastifyReply, after: number, filter: EventFilter) => {
    const stop = new AbortController();
    const stream: OpenStream = { stop, done: Promise.resolve() };
    reply.hijack();
    const raw = reply.raw;
    raw.on('close', () => stop.abort());
    stream.done = pump(raw, services, after, filter, stop.signal)
      .catch((error: unknown) => {
        if (!stop.signal.aborted) reply.log.warn({ err: error }, 'event stream failed');
      })
      .finally(() => {
        open.delete(stream);
        raw.end();
      });
    open.add(stream);
  };

  app.get(
    '/events',
    {
      schema: {
        tags: ['events'],
        summary: 'Live upgrade events of all jobs (SSE)',
        description,
        produces: ['text/event-stream'],
        querystring: StreamQuery,
        headers: StreamHeaders,
        response: errorResponses,
      },
    },
    async (request, reply) => {
      const after = await startAfter(services, request.headers['last-event-id'], request.query.after);
      start(reply, after, {});
    },
  );

  app.get(
    '/jobs/:jobId/events',
    {
      schema: {
        tags: ['events'],
        summary: 'Live upgrade events of one job (SSE)',
        description,
        produces: ['text/event-stream'],
        params: Type.Object({ jobId: Type.Integer() }),
        querystring: StreamQuery,
        headers: StreamHeaders,
        response: errorResponses,
      },
    },
    async (request, reply) => {
      await services.jobs.get(request.params.jobId);
      const after = await startAfter(services, request.headers['last-event-id'], request.query.after);
      start(reply, after, { jobId: request.params.jobId });
    },
  );
};

async function startAfter(
  services: AppServices,
  lastEventId: string | undefined,
  after: number | undefined,
): Promise<number> {
  if (lastEventId !== undefined && lastEventId !== '') {
    if (!/^\d{1,15}$/.test(lastEventId))
      throw new AloftError('VALIDATION', ['Last-Event-ID must be an event id']);
    return Number(lastEventId);
  }
  return after ?? services.events.latestId();
}

/** Writes the feed to the response until the client leaves or the server closes. */
async function pump(
  raw: ServerResponse,
  services: AppServices,
  after: number,
  filter: EventFilter,
  signal: AbortSignal,
): Promise<void> {
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    // nginx buffers proxied responses unless told not to; events must arrive as they happen.
    'x-accel-buffering': 'no',
  });
  await write(raw, 'retry: 2000\n: connected\n\n', signal);
  for await (const events of services.events.follow(after, filter, signal)) {
    const chunk = events.length
      ? events.map((e) => `id: ${e.id}\ndata: ${JSON.stringify(e)}\n\n`).join('')
      : ': ping\n\n';
    await write(raw, chunk, signal);
  }
}

/** Writes and waits while the client is slow to read, so a stalled client cannot make us buffer without end. */
async function write(raw: ServerResponse, chunk: string, signal: AbortSignal): Promise<void> {
  if (signal.aborted || raw.writableEnded || raw.destroyed) return;
  if (!raw.write(chunk)) await once(raw, 'drain', { signal }).catch(() => undefined);
}
