import { createHash, randomBytes } from 'node:crypto';
import { close, createReadStream, createWriteStream, open as openCallback, read } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  BlobKeyInvalidError,
  BlobNotFoundError,
  BlobStoreError,
  FirmwareDigestMismatchError,
  FirmwareTooLargeError,
  FirmwareUploadIncompleteError,
} from './blob-errors.js';
import {
  assertByteRange,
  type BlobExpectation,
  type BlobStore,
  type ByteRange,
  type StoredBlob,
} from './blob-store.js';

/**
 * 1 MiB reads: measured on the reference machine, `fs.createReadStream` with 1 MiB chunks serves a 64 MiB
 * file 2.5× faster (1 connection) than with the default 64 KiB (docs/architecture.md, "Measured ceilings").
 */
export const READ_CHUNK_BYTES = 1024 * 1024;

/** Keys are 128-bit random ids in lowercase hex: nothing a caller passes can name a path outside the root. */
const KEY_PATTERN = /^[0-9a-f]{32}$/;
const INCOMING_DIR = '.incoming';
const TEMP_SUFFIX = '.part';
const DEFAULT_STALE_TEMP_AFTER_MS = 60 * 60 * 1000;

export interface FilesystemBlobStoreOptions {
  /** Directory holding one file per blob, named by its key. Created if missing. */
  root: string;
  /**
   * A temp file (an upload in progress) untouched for this long is considered abandoned by a crashed
   * process and removed when the store opens. Not zero by default because several server instances may
   * share one directory and another may be mid-upload. Default: 1 hour.
   */
  staleTempAfterMs?: number;
  /** Clock for the sweep, in epoch milliseconds. */
  now?: () => number;
}

/**
 * Stores each firmware package as `<root>/<key>`, with uploads in progress under `<root>/.incoming/`
 * (same filesystem, so the final `rename` is atomic: a reader sees either no file or the whole file).
 *
 * Keys are random rather than content-addressed on purpose: two firmware records that happen to upload
 * the same bytes get two blobs, so deleting one can never break the other (no reference counting).
 */
export class FilesystemBlobStore implements BlobStore {
  private readonly incoming: string;

  private constructor(private readonly root: string) {
    this.incoming = join(root, INCOMING_DIR);
  }

  /** Creates the directories if needed and removes temp files left by a crashed upload. */
  static async open(options: FilesystemBlobStoreOptions): Promise<FilesystemBlobStore> {
    const store = new FilesystemBlobStore(resolve(options.root));
    await mkdir(store.incoming, { recursive: true });
    await store.sweepStaleTempFiles(
      options.staleTempAfterMs ?? DEFAULT_STALE_TEMP_AFTER_MS,
      options.now?.() ?? Date.now(),
    );
    return store;
  }

  async put(source: Readable, expect: BlobExpectation = {}): Promise<StoredBlob> {
    const key = randomBytes(16).toString('hex');
    const tempPath = join(this.incoming, `${key}${TEMP_SUFFIX}`);
    const maxBytes = expect.maxBytes ?? Number.POSITIVE_INFINITY;
    const md5 = createHash('md5');
    const sha256 = createHash('sha256');
    let size = 0;
    try {
      // 'wx': a key collision (2^-128) fails loudly instead of mixing two uploads in one file.
      const output = createWriteStream(tempPath, {
        flags: 'wx',
        mode: 0o644,
        highWaterMark: READ_CHUNK_BYTES,
      });
      const origin = failureOrigin(source, output);
      try {
        await pipeline(
          source,
          async function* hashAndCount(chunks: AsyncIterable<Buffer | string>) {
            for await (const raw of chunks) {
              const chunk = typeof raw === 'string' ? Buffer.from(raw) : raw;
              size += chunk.length;
              // Cut off at the limit instead of storing (and then discarding) an oversized upload.
              if (size > maxBytes) throw new FirmwareTooLargeError(maxBytes);
              md5.update(chunk);
              sha256.update(chunk);
              yield chunk;
            }
          },
          output,
        );
      } catch (error) {
        // A failing disk is our fault (500), a failing source is the uploader's: only wrap the latter.
        if (error instanceof BlobStoreError || origin() === 'output') throw error;
        throw new FirmwareUploadIncompleteError(error);
      }
      const blob: StoredBlob = { key, size, md5: md5.digest('hex'), sha256: sha256.digest('hex') };
      verifyDigest('md5', expect.md5, blob.md5);
      verifyDigest('sha256', expect.sha256, blob.sha256);
      // Durable before visible: once `put` resolves the caller records the key in the database.
      // (fsync flushes the file's data whichever descriptor asks; the write stream's own is closed.)
      await fsyncPath(tempPath, 'r+');
      await rename(tempPath, this.pathOf(key));
      // Makes the rename itself durable; best effort: not every platform can fsync a directory.
      await fsyncPath(this.root, 'r').catch(() => undefined);
      return blob;
    } catch (error) {
      await rm(tempPath, { force: true });
      throw error;
    }
  }

  async stat(key: string): Promise<{ size: number } | undefined> {
    try {
      const stats = await stat(this.pathOf(key));
      return stats.isFile() ? { size: stats.size } : undefined;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  openRead(key: string, range?: ByteRange): Readable {
    const path = this.pathOf(key);
    if (range) assertByteRange(range);
    return createReadStream(path, {
      highWaterMark: READ_CHUNK_BYTES,
      ...(range ? { start: range.start, end: range.end } : {}),
      // Custom `open` only to turn ENOENT into the store's own error; reads go straight to fs.read.
      fs: {
        open(
          file: string,
          flags: string,
          mode: number,
          callback: (error: Error | null, fd?: number) => void,
        ) {
          openCallback(file, flags, mode, (error, fd) =>
            callback(error && isNotFound(error) ? new BlobNotFoundError(key) : error, fd),
          );
        },
        read,
        close,
      },
    });
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  localPath(key: string): string {
    return this.pathOf(key);
  }

  private pathOf(key: string): string {
    if (!KEY_PATTERN.test(key)) throw new BlobKeyInvalidError(key);
    return join(this.root, key);
  }

  private async sweepStaleTempFiles(staleAfterMs: number, now: number): Promise<void> {
    for (const name of await readdir(this.incoming)) {
      if (!name.endsWith(TEMP_SUFFIX)) continue;
      const path = join(this.incoming, name);
      try {
        const stats = await stat(path);
        if (now - stats.mtimeMs >= staleAfterMs) await rm(path, { force: true });
      } catch (error) {
        // Another instance finished or swept it between readdir and stat.
        if (!isNotFound(error)) throw error;
      }
    }
  }
}

function verifyDigest(algorithm: 'md5' | 'sha256', expected: string | undefined, actual: string): void {
  if (expected !== undefined && expected.toLowerCase() !== actual) {
    throw new FirmwareDigestMismatchError(algorithm, expected.toLowerCase(), actual);
  }
}

/**
 * Which side of the pipe failed first. `pipeline` destroys every stream with the first error, so after
 * the fact both look failed; the order of their events tells the origin.
 */
function failureOrigin(source: Readable, output: Writable): () => 'source' | 'output' | undefined {
  let origin: 'source' | 'output' | undefined;
  source.once('error', () => {
    origin ??= 'source';
  });
  source.once('close', () => {
    // Closed before its end without an error: a cut connection (premature close).
    if (!source.readableEnded) origin ??= 'source';
  });
  output.once('error', () => {
    origin ??= 'output';
  });
  return () => origin;
}

async function fsyncPath(path: string, flags: 'r' | 'r+'): Promise<void> {
  const handle = await open(path, flags);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function isNotFound(error: unknown): boolean {
  return error instanceof Error && 'code' in error && error.code === 'ENOENT';
}
