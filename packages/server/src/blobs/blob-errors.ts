/**
 * Errors a {@link BlobStore} throws. Each carries a stable `code` (`ALOFT_<AREA>_<WHAT>`) and the HTTP status
 * an operator-facing route should answer with, so the one error-to-response mapping can treat them like
 * every other catalogue error.
 *
 * Their codes and statuses are entries of the catalogue in src/errors.ts (a test pins them together).
 */

/** Base class: every blob store failure that is not a programming error. */
export abstract class BlobStoreError extends Error {
  /** Stable machine-readable code, never reworded. */
  abstract readonly code: string;
  /** HTTP status a route should use when this error reaches an operator. */
  abstract readonly statusCode: number;
}

/** The uploaded bytes do not hash to the digest the uploader declared. */
export class FirmwareDigestMismatchError extends BlobStoreError {
  readonly code = 'ALOFT_FIRMWARE_DIGEST_MISMATCH';
  readonly statusCode = 422;
  constructor(
    readonly algorithm: 'md5' | 'sha256',
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`Firmware ${algorithm} is ${actual}, but ${expected} was declared`);
    this.name = 'FirmwareDigestMismatchError';
  }
}

/** The upload grew past the configured size limit; it was cut off there, not read to the end. */
export class FirmwareTooLargeError extends BlobStoreError {
  readonly code = 'ALOFT_FIRMWARE_TOO_LARGE';
  readonly statusCode = 413;
  constructor(readonly maxBytes: number) {
    super(`Firmware is larger than the limit of ${maxBytes} bytes`);
    this.name = 'FirmwareTooLargeError';
  }
}

/** The source stream failed (client went away, disk error) before the whole file was stored. */
export class FirmwareUploadIncompleteError extends BlobStoreError {
  readonly code = 'ALOFT_FIRMWARE_UPLOAD_INCOMPLETE';
  readonly statusCode = 400;
  constructor(cause: unknown) {
    super(`Firmware upload did not complete: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
    this.name = 'FirmwareUploadIncompleteError';
  }
}

/** No blob is stored under this key (never was, or was deleted). */
export class BlobNotFoundError extends BlobStoreError {
  readonly code = 'ALOFT_BLOB_NOT_FOUND';
  readonly statusCode = 404;
  constructor(readonly key: string) {
    super(`No blob is stored under key ${JSON.stringify(key)}`);
    this.name = 'BlobNotFoundError';
  }
}

/** The key is not one this store could have issued (for example it tries to escape the store's directory). */
export class BlobKeyInvalidError extends BlobStoreError {
  readonly code = 'ALOFT_BLOB_KEY_INVALID';
  readonly statusCode = 400;
  constructor(readonly key: string) {
    super(`${JSON.stringify(key)} is not a valid blob key`);
    this.name = 'BlobKeyInvalidError';
  }
}

/** A byte range that is negative, fractional or ends before it starts. */
export class BlobRangeInvalidError extends BlobStoreError {
  readonly code = 'ALOFT_BLOB_RANGE_INVALID';
  readonly statusCode = 416;
  constructor(
    readonly start: number,
    readonly end: number,
  ) {
    super(`Invalid byte range ${start}-${end}`);
    this.name = 'BlobRangeInvalidError';
  }
}
