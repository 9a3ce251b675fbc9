import { close, open, read } from 'node:fs';
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { FastifyBaseLogger } from 'fastify';
import { DOWNLOAD_ERRORS, type DownloadErrorCode, downloadErrorBody } from './download-errors.js';

/*
 * The two ways the download route writes a firmware body onto a hijacked response whose headers were set
 * with `setHeader` (not `writeHead`): they only go out with the first chunk, so a read that fails before
 * it (the blob vanished) still gets a proper JSON error; one that fails later cuts the connection, which a
 * resuming client retries with a Range.
 */

/** Read size: 1 MiB reads serve 2.5× faster than 64 KiB ones (docs/architecture.md, "Measured ceilings"). */
export const FILE_CHUNK_BYTES = 1024 * 1024;
/** Buffers one response holds at most: one being read while the other is being written. */
const BUFFERS_PER_RESPONSE = 2;
/** Free buffers kept for reuse across responses (32 MiB); beyond that they are left to the GC. */
const POOL_LIMIT = 32;
const pool: Buffer[] = [];

/**
 * Sends the inclusive byte range `[first, last]` of a local file with reused 1 MiB buffers: at most two
 * per response (a read overlapping a write), recycled once the socket has taken the bytes. Compared with
 * `fs.createReadStream(...).pipe(res)`, which allocates a fresh 1 MiB buffer per chunk, this avoids the
 * page faults of new memory for every chunk, the main CPU cost of a download here (see docs/benchmarks.md).
 */
export function sendFileBody(
  res: ServerResponse,
  path: string,
  first: number,
  last: number,
  log: FastifyBaseLogger,
): void {
  let fd: number | undefined;
  let position = first;
  let reading = false;
  let held = 0;
  let done = false;

  // The descriptor is closed only when no read is using it: closing under a pending read could let that
  // read land on a descriptor number the process has meanwhile reused.
  const closeFile = () => {
    if (fd !== undefined && !reading) {
      close(fd, () => undefined);
      fd = undefined;
    }
  };
  const release = (buffer: Buffer) => {
    held--;
    if (pool.length < POOL_LIMIT) pool.push(buffer);
  };
  const stop = () => {
    done = true;
    closeFile();
  };
  res.once('close', stop);

  const pump = (): void => {
    if (done || reading || held >= BUFFERS_PER_RESPONSE || position > last || fd === undefined) return;
    const buffer = pool.pop() ?? Buffer.allocUnsafeSlow(FILE_CHUNK_BYTES);
    held++;
    reading = true;
    read(fd, buffer, 0, Math.min(FILE_CHUNK_BYTES, last - position + 1), position, (error, bytesRead) => {
      reading = false;
      if (done || res.destroyed) {
        release(buffer);
        stop();
        return;
      }
      if (error || bytesRead === 0) {
        release(buffer);
        stop();
        failBody(res, error ?? new Error(`${path} ends before byte ${position}`), log);
        return;
      }
      position += bytesRead;
      // The buffer goes back to the pool only once the socket has copied it out; never earlier.
      res.write(bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead), () => {
        release(buffer);
        pump();
      });
      if (position > last) {
        stop();
        res.end();
        return;
      }
      pump();
    });
  };

  open(path, 'r', (error, opened) => {
    if (error) {
      done = true;
      failBody(res, error, log);
      return;
    }
    fd = opened;
    if (done || res.destroyed) {
      closeFile();
      return;
    }
    pump();
  });
}

/** Pipes a blob store stream (no per-chunk work of our own); used when the blob is not a local file. */
export function pipeBody(body: Readable, res: ServerResponse, log: FastifyBaseLogger): void {
  // A client that disconnects must not leave the file descriptor open (pipe alone would only unpipe).
  res.once('close', () => {
    if (!body.destroyed) body.destroy();
  });
  body.once('error', (error) => failBody(res, error, log));
  body.pipe(res);
}

/** A JSON error if nothing was sent yet, otherwise a cut connection (the client sees a short body). */
function failBody(res: ServerResponse, error: Error, log: FastifyBaseLogger): void {
  if (res.destroyed || res.writableEnded) return;
  if (res.headersSent) {
    log.warn({ err: error }, 'firmware read failed mid-download');
    res.destroy(error);
    return;
  }
  const code: DownloadErrorCode =
    hasCode(error, 'ALOFT_BLOB_NOT_FOUND') || hasCode(error, 'ENOENT')
      ? 'ALOFT_DOWNLOAD_NOT_FOUND'
      : 'ALOFT_DOWNLOAD_FAILED';
  log.warn({ err: error }, 'firmware read failed before the first byte');
  for (const name of res.getHeaderNames()) res.removeHeader(name);
  const json = JSON.stringify(downloadErrorBody(code));
  res.writeHead(DOWNLOAD_ERRORS[code].status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(json),
  });
  res.end(json);
}

function hasCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === code;
}
