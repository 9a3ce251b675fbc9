import { DownloadError, errorForStatus } from './download-error.js';
import type { HttpGetResponse } from './http-get.js';

/** What to do with a response to a (possibly ranged) firmware GET. */
export type ResponsePlan =
  /** Stream `body`; its first byte is byte `startsAt` of the file (0 when the server ignored our Range). */
  | { kind: 'stream'; startsAt: number; body: AsyncIterable<Uint8Array> }
  /** 416 to a resume: the server no longer agrees with our offset, start again from byte 0. */
  | { kind: 'restart' };

/**
 * Headers for a GET from `offset`. A resume is open-ended (`bytes=N-`); Tencent devices send
 * `bytes=N-<file_size>`, which the server clamps, but open-ended needs no clamping.
 *
 * Compression is refused: byte offsets must be offsets in the file, and Aliyun/Tencent servers expect to send
 * raw bytes with a Content-Length. A ranged request needs no header: the Fetch standard makes fetch itself add
 * `Accept-Encoding: identity` when `Range` is set (undici does), so setting it too would send it twice; the
 * default client (`nodeHttpGet`) always sends it.
 */
export function requestHeaders(offset: number): Record<string, string> {
  return offset > 0 ? { range: `bytes=${offset}-` } : { 'accept-encoding': 'identity' };
}

/**
 * Checks a response against what was asked (`offset`) and the task's `size`, following the LinkSDK rules:
 * only 200/206 are usable, and a Content-Length is required (no chunked transfer).
 * Throws a {@link DownloadError}; the caller closes the response.
 */
export function planResponse(response: HttpGetResponse, offset: number, size: number): ResponsePlan {
  const { status, body } = response;
  if (status === 416 && offset > 0) return { kind: 'restart' };
  if (status !== 200 && status !== 206) throw errorForStatus(status);

  const encoding = response.header('content-encoding');
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
    throw new DownloadError(
      'download_failed',
      `server compressed the body (${encoding}); raw bytes required`,
      {
        status,
      },
    );
  }
  const length = parseByteCount(response.header('content-length'));
  if (length === undefined) {
    throw new DownloadError('download_failed', 'response has no valid Content-Length', { status });
  }

  if (status === 200) {
    // A 200 to a Range request means no range support: the body is the whole file, from byte 0.
    if (length !== size) throw sizeMismatch(length, size, status);
    return { kind: 'stream', startsAt: 0, body };
  }

  if (offset === 0) {
    throw new DownloadError('download_failed', 'HTTP 206 to a request without Range', { status });
  }
  const range = parseContentRange(response.header('content-range'));
  if (range === undefined) {
    throw new DownloadError('download_failed', 'HTTP 206 without a valid Content-Range', { status });
  }
  if (range.total !== undefined && range.total !== size) throw sizeMismatch(range.total, size, status);
  if (range.start !== offset || range.end !== size - 1 || length !== size - offset) {
    throw new DownloadError(
      'download_failed',
      `asked for bytes ${offset}-${size - 1}, got ${range.start}-${range.end} (Content-Length ${length})`,
      { status },
    );
  }
  return { kind: 'stream', startsAt: offset, body };
}

function sizeMismatch(actual: number, expected: number, status: number): DownloadError {
  // The server holds a different file than the task describes: retrying cannot help.
  return new DownloadError('verify_failed', `server file is ${actual} bytes, task says ${expected}`, {
    status,
  });
}

function parseByteCount(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+$/.test(value.trim())) return undefined;
  const n = Number(value.trim());
  return Number.isSafeInteger(n) ? n : undefined;
}

function parseContentRange(
  value: string | undefined,
): { start: number; end: number; total?: number } | undefined {
  const match = value === undefined ? null : /^bytes\s+(\d+)-(\d+)\/(\d+|\*)$/i.exec(value.trim());
  if (match === null) return undefined;
  const [, start, end, total] = match;
  const range: { start: number; end: number; total?: number } = { start: Number(start), end: Number(end) };
  if (total !== undefined && total !== '*') range.total = Number(total);
  return range;
}
