import type { Readable } from 'node:stream';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { ByteRange } from '../../../blobs/blob-store.js';
import { decideRange } from './byte-range.js';
import { DOWNLOAD_ERRORS, type DownloadErrorCode, downloadErrorBody } from './download-errors.js';
import { verifyDownloadSignature } from './download-url.js';
import { pipeBody, sendFileBody } from './response-body.js';

/** What the route needs to know about a firmware package; the composition root adapts store + blob store. */
export interface DownloadableFirmware {
  fileName: string;
  size: number;
  /** Lowercase hex; sent as the strong ETag. */
  sha256: string;
  /** A stream of the file or of the inclusive `range`, read in large chunks (the blob store's `openRead`). */
  openRead(range?: ByteRange): Readable;
  /**
   * Path of the package when it is a local file (`FilesystemBlobStore.localPath`). The route then reads
   * it itself with pooled buffers instead of calling `openRead`: same bytes, less CPU per GiB.
   */
  localPath?: string;
}

/** Reported once per request when its response is over; for metrics and tests. */
export interface DownloadServedEvent {
  firmwareId: string;
  method: 'GET' | 'HEAD';
  status: number;
  /** The bytes served by a 206, after clamping; `undefined` for a whole-file or error response. */
  range: ByteRange | undefined;
  /** `false` when the client went away, or the read failed, before the last byte. */
  completed: boolean;
}

export interface DownloadRouteOptions {
  /** The URL signing secret, or several during a rotation (see `verifyDownloadSignature`). */
  secret: string | readonly string[];
  /**
   * The firmware package by id, or `undefined` when it is gone. Should also answer `undefined` when the
   * blob is missing (a `stat` is cheap), so the device gets a clean 404 rather than a cut-off 200.
   */
  resolve(firmwareId: string): Promise<DownloadableFirmware | undefined>;
  now?: () => Date;
  /** Must not throw; an exception is logged and swallowed. */
  onServed?: (event: DownloadServedEvent) => void;
}

/**
 * `GET` / `HEAD /download/<firmwareId>/<file name>?expires=&sig=`: the device-facing download route
 * (docs/architecture.md, "Downloads"). Signed URLs come from `signDownloadUrl`; register the plugin
 * without a prefix, or sign with a `baseUrl` that includes the prefix.
 *
 * The file name is matched with a wildcard rather than a `:param` so that long names are not cut off by
 * Fastify's `maxParamLength` (100).
 *
 * The body bypasses Fastify's reply pipeline (`reply.hijack()`): no `onSend` hook (compression
 * included) can touch it, and each 1 MiB chunk goes straight from the file to the socket (see
 * `response-body.ts`). The price is that Fastify's `onResponse` logging does not see these responses;
 * `onServed` is the hook instead.
 */
export const downloadRoute: FastifyPluginAsync<DownloadRouteOptions> = async (app, options) => {
  const now = options.now ?? (() => new Date());

  app.route({
    method: ['GET', 'HEAD'],
    url: '/download/:firmwareId/*',
    exposeHeadRoute: false,
    handler: async (request, reply) => {
      const { firmwareId, '*': fileName } = request.params as { firmwareId: string; '*': string };
      const query = request.query as Record<string, unknown>;
      const method = request.method === 'HEAD' ? 'HEAD' : 'GET';
      let range: ByteRange | undefined;
      const { onServed } = options;
      if (onServed) {
        reply.raw.once('close', () => {
          const { statusCode: status, writableFinished: completed } = reply.raw;
          try {
            onServed({ firmwareId, method, status, range, completed });
          } catch (error) {
            request.log.error({ err: error }, 'download onServed hook threw');
          }
        });
      }

      const signature = verifyDownloadSignature({
        firmwareId,
        fileName,
        expires: singleValue(query.expires),
        sig: singleValue(query.sig),
        secret: options.secret,
        now: now(),
      });
      if (signature === 'expired') return sendError(reply, 'ALOFT_DOWNLOAD_URL_EXPIRED');
      if (signature !== 'ok') return sendError(reply, 'ALOFT_DOWNLOAD_BAD_SIGNATURE');

      const firmware = await options.resolve(firmwareId);
      if (!firmware || firmware.fileName !== fileName) return sendError(reply, 'ALOFT_DOWNLOAD_NOT_FOUND');

      const etag = `"${firmware.sha256}"`;
      const decision = decideRange(
        singleValue(request.headers.range),
        singleValue(request.headers['if-range']),
        firmware.size,
        etag,
      );
      if (decision.kind === 'unsatisfiable') {
        reply.header('content-range', `bytes */${firmware.size}`).header('accept-ranges', 'bytes');
        return sendError(reply, 'ALOFT_DOWNLOAD_RANGE_NOT_SATISFIABLE');
      }
      range = decision.kind === 'partial' ? decision.range : undefined;
      // Opened before hijacking so that a synchronous throw still goes through Fastify's error handling.
      const stream =
        method === 'GET' && firmware.localPath === undefined && firmware.size > 0
          ? firmware.openRead(range)
          : undefined;

      const headers = reply.getHeaders();
      reply.hijack();
      const res = reply.raw;
      for (const [name, value] of Object.entries(headers))
        if (value !== undefined) res.setHeader(name, value);
      res.statusCode = range ? 206 : 200;
      res.setHeader('content-type', 'application/octet-stream');
      res.setHeader('content-length', range ? range.end - range.start + 1 : firmware.size);
      if (range) res.setHeader('content-range', `bytes ${range.start}-${range.end}/${firmware.size}`);
      res.setHeader('accept-ranges', 'bytes');
      res.setHeader('etag', etag);
      // Firmware is already compressed or must arrive byte-exact; tell proxies not to recompress it either.
      res.setHeader('cache-control', 'private, no-transform');
      const { start, end } = range ?? { start: 0, end: firmware.size - 1 };
      if (method === 'HEAD' || firmware.size === 0) res.end();
      else if (stream) pipeBody(stream, res, request.log);
      else if (firmware.localPath !== undefined)
        sendFileBody(res, firmware.localPath, start, end, request.log);
    },
  });
};

function sendError(reply: FastifyReply, code: DownloadErrorCode): FastifyReply {
  return reply.code(DOWNLOAD_ERRORS[code].status).send(downloadErrorBody(code));
}

/** A repeated query parameter or header is treated as absent: it is never what a signer produced. */
function singleValue(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
