import type { UpgradeErrorCode } from '@aloft/protocol';

/**
 * Why {@link downloadFirmware} failed, as a device reports it to the server.
 *
 * `code` is exactly the protocol's {@link UpgradeErrorCode}, so the MQTT side can put it straight into a
 * progress report:
 * - `download_failed`: network error, stall, truncated or malformed response. The checkpoint is kept, so the
 *   next call with the same package resumes.
 * - `url_expired`: HTTP 403 (signed URL expired or bad). Ask the server for the task again; it re-signs the URL,
 *   and the download resumes from the checkpoint.
 * - `not_found`: HTTP 404/410.
 * - `verify_failed`: size, digest or signature mismatch. The partial file and checkpoint are deleted: the same
 *   bytes would fail again.
 * - `other`: anything else (a local file system error, an invalid task).
 *
 * An abort through `options.signal` is not a DownloadError: the promise rejects with `signal.reason`.
 */
export class DownloadError extends Error {
  override readonly name = 'DownloadError';
  /** Normalized reason, ready for a progress report. */
  readonly code: UpgradeErrorCode;
  /** HTTP status of the response that caused the failure, when there was one. */
  readonly status: number | undefined;

  constructor(code: UpgradeErrorCode, message: string, options: { cause?: unknown; status?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status;
  }
}

/** The error for an HTTP status the downloader cannot use (Tencent maps 404 → -2, 403 → -3). */
export function errorForStatus(status: number): DownloadError {
  if (status === 403) {
    return new DownloadError('url_expired', 'download URL refused (HTTP 403): expired or bad signature', {
      status,
    });
  }
  if (status === 404 || status === 410) {
    return new DownloadError('not_found', `firmware not found (HTTP ${status})`, { status });
  }
  return new DownloadError('download_failed', `unexpected HTTP status ${status}`, { status });
}
