import { type FileHandle, mkdir, open, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { UpgradeTask } from '@aloft/protocol';
import { BatchedWriter } from './batched-writer.js';
import { checkpointFor, removeCheckpoint, writeCheckpoint } from './checkpoint.js';
import { DownloadError } from './download-error.js';
import type { PackageFiles } from './package-files.js';
import { removeFile } from './remove-file.js';

/** When to write a checkpoint while bytes arrive. */
export interface CheckpointPolicy {
  /** Write once this many bytes arrived since the last checkpoint. */
  everyBytes: number;
  /** ...or once this much time passed and at least one byte arrived. */
  everyMs: number;
  now: () => number;
}

/**
 * The `.part` file being written plus its checkpoint. Invariant: the checkpoint never claims more bytes than
 * were flushed (fdatasync) to the partial file before it was written, so after a crash the first
 * `bytesWritten` bytes can be trusted even if the file is longer or its tail is garbage. Between checkpoints the
 * bytes are written in batches (see {@link BatchedWriter}): nothing a crash could lose matters, since only
 * checkpointed bytes are ever trusted.
 */
export class PartialFile {
  readonly #handle: FileHandle;
  readonly #files: PackageFiles;
  readonly #task: UpgradeTask;
  readonly #policy: CheckpointPolicy;
  readonly #writer: BatchedWriter;
  #checkpointedBytes: number;
  #checkpointedAt: number;
  #checkpointOnDisk: boolean;

  private constructor(
    handle: FileHandle,
    files: PackageFiles,
    task: UpgradeTask,
    policy: CheckpointPolicy,
    bytes: number,
    checkpointOnDisk: boolean,
  ) {
    this.#handle = handle;
    this.#writer = new BatchedWriter(handle, bytes);
    this.#files = files;
    this.#task = task;
    this.#policy = policy;
    this.#checkpointedBytes = bytes;
    this.#checkpointedAt = policy.now();
    this.#checkpointOnDisk = checkpointOnDisk;
  }

  /**
   * Opens the partial file cut to `bytes` (0 = start afresh), knowing whether a checkpoint file exists. A fresh
   * start creates the data directory if need be: only then, instead of an `mkdir` per download.
   */
  static async open(
    files: PackageFiles,
    task: UpgradeTask,
    policy: CheckpointPolicy,
    bytes: number,
    checkpointOnDisk: boolean,
  ): Promise<PartialFile> {
    const handle = await localIo('open the partial file', () =>
      bytes > 0 ? open(files.part, 'r+') : createFile(files.part),
    );
    // A crash can leave bytes past the checkpoint; they were never confirmed, so drop them.
    if (bytes > 0) {
      try {
        await localIo('truncate the partial file', () => handle.truncate(bytes));
      } catch (error) {
        await handle.close();
        throw error;
      }
    }
    return new PartialFile(handle, files, task, policy, bytes, checkpointOnDisk);
  }

  /** Bytes of the file received so far (the last few may still wait in memory for the next write). */
  get bytes(): number {
    return this.#writer.end;
  }

  /** Whether a checkpoint file exists (found at the start, or written since): one to remove when done. */
  get checkpointOnDisk(): boolean {
    return this.#checkpointOnDisk;
  }

  /** Takes `chunk` (copied: the caller may reuse its memory once this resolves). */
  async append(chunk: Uint8Array): Promise<void> {
    await localIo('write the partial file', () => this.#writer.write(chunk));
    const sinceBytes = this.bytes - this.#checkpointedBytes;
    if (
      sinceBytes >= this.#policy.everyBytes ||
      (sinceBytes > 0 && this.#policy.now() - this.#checkpointedAt >= this.#policy.everyMs)
    ) {
      await this.checkpoint();
    }
  }

  /** Starts over from byte 0 (the server ignored our Range or refused it). */
  async restart(): Promise<void> {
    this.#writer.restartAt(0);
    await localIo('truncate the partial file', () => this.#handle.truncate(0));
    await this.checkpoint();
  }

  /** Writes what is received, flushes it, then records how much of it is durable. */
  async checkpoint(): Promise<void> {
    await this.flush();
    await localIo('write the checkpoint', () =>
      writeCheckpoint(this.#files.checkpoint, checkpointFor(this.#task, this.bytes)),
    );
    this.#checkpointOnDisk = true;
    this.#checkpointedBytes = this.bytes;
    this.#checkpointedAt = this.#policy.now();
  }

  /** Writes what is received and flushes it (before the file is renamed into place). */
  async flush(): Promise<void> {
    await localIo('write the partial file', () => this.#writer.flush());
    await localIo('flush the partial file', () => this.#handle.datasync());
  }

  /** Closes the file; what was not flushed is dropped. No write is pending by then: each one is awaited. */
  async close(): Promise<void> {
    this.#writer.release();
    await this.#handle.close();
  }
}

/** Opens `path` for writing, empty, creating its directory when it is missing. */
async function createFile(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'w');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    await mkdir(dirname(path), { recursive: true });
    return await open(path, 'w');
  }
}

/** Size of a file, 0 when it does not exist. */
export async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

/** Forgets a download: partial file and checkpoint. */
export async function discardPartial(files: PackageFiles): Promise<void> {
  await removeFile(files.part);
  await removeCheckpoint(files.checkpoint);
}

/** Local file system failures are the device's problem, not the network's: code `other`. */
async function localIo<T>(what: string, io: () => Promise<T>): Promise<T> {
  try {
    return await io();
  } catch (error) {
    throw new DownloadError('other', `cannot ${what}: ${(error as Error).message}`, { cause: error });
  }
}
