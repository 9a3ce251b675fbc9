import type { Readable } from 'node:stream';
import { BlobRangeInvalidError } from './blob-errors.js';

/** What the uploader claims about a file; `put` verifies every field given while it streams. */
export interface BlobExpectation {
  /** Lowercase or uppercase hex MD5 the bytes must hash to. */
  md5?: string;
  /** Lowercase or uppercase hex SHA-256 the bytes must hash to. */
  sha256?: string;
  /** Upper bound on the size; the upload is cut off as soon as it is exceeded. */
  maxBytes?: number;
}

/** A blob that is fully written and durable. Digests are lowercase hex. */
export interface StoredBlob {
  /** Opaque key chosen by the store; persist it with the firmware record. */
  key: string;
  size: number;
  md5: string;
  sha256: string;
}

/** An inclusive byte range, as in HTTP `Range: bytes=start-end`. */
export interface ByteRange {
  start: number;
  /** Inclusive. */
  end: number;
}

/**
 * Where firmware packages live. Implementations: the filesystem (default) and, later, an object store.
 * Every implementation must pass `describeBlobStore` from `testing/blob-store-conformance.ts`.
 */
export interface BlobStore {
  /**
   * Streams `source` into the store, hashing (MD5 and SHA-256) as it goes, so a file of any size
   * (≥ 2 GiB) is never held in memory. The blob only becomes visible once it is complete and verified;
   * a digest mismatch, exceeding `maxBytes` or a failing source leaves nothing behind and rejects with
   * `FirmwareDigestMismatchError`, `FirmwareTooLargeError` or `FirmwareUploadIncompleteError`.
   */
  put(source: Readable, expect?: BlobExpectation): Promise<StoredBlob>;

  /** Size of a stored blob, or `undefined` if there is none under `key`. */
  stat(key: string): Promise<{ size: number } | undefined>;

  /**
   * Opens the blob (or the inclusive `range` of it) for reading. A missing blob is reported as a
   * `BlobNotFoundError` emitted by the stream, so callers that already checked `stat` pay nothing extra.
   * Throws `BlobRangeInvalidError` synchronously for a malformed range. A range ending past the blob
   * yields only the bytes that exist; clamping is the caller's job (the download route does it).
   */
  openRead(key: string, range?: ByteRange): Readable;

  /** Removes the blob. Deleting a missing key is not an error. */
  delete(key: string): Promise<void>;

  /**
   * Absolute path of the blob on the local filesystem, for stores that have one (for example to let an
   * external file server such as nginx serve it). Does not check that the blob exists.
   */
  localPath?(key: string): string;
}

/** Throws `BlobRangeInvalidError` unless `range` is a well-formed inclusive range. */
export function assertByteRange(range: ByteRange): void {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new BlobRangeInvalidError(start, end);
  }
}
