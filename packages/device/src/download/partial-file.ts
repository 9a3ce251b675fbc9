import { type FileHandle, open, rm, stat } from 'node:fs/promises';
import type { UpgradeTask } from '@aloft/protocol';
import { checkpointFor, removeCheckpoint, writeCheckpoint } from './checkpoint.js';
import { DownloadError } from './download-error.js';
import type { PackageFiles } from './package-files.js';

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
 * `bytesWritten` bytes can be trusted even if the file is longer or its tail is garbage.
 */
export class PartialFile {
  readonly #handle: FileHandle;
  readonly #files: PackageFiles;
  readonly #task: UpgradeTask;
  readonly #policy: CheckpointPolicy;
  #bytes: number;
  #checkpointedBytes: number;
  #checkpointedAt: number;

  private constructor(
    handle: FileHandle,
    files: PackageFiles,
    task: UpgradeTask,
    policy: CheckpointPolicy,
    bytes: number,
  ) {
    this.#handle = handle;
    this.#files = files;
    this.#task = task;
    this.#policy = policy;
    this.#bytes = bytes;
    this.#checkpointedBytes = bytes;
    this.#checkpointedAt = policy.now();
  }

  /** Opens the partial file cut to `bytes` (0 = start afresh). */
  static async open(
    files: PackageFiles,
    task: UpgradeTask,
    policy: CheckpointPolicy,
    bytes: number,
  ): Promise<PartialFile> {
    const handle = await localIo('open the partial file', () => open(files.part, bytes > 0 ? 'r+' : 'w'));
    const file = new PartialFile(handle, files, task, policy, bytes);
    // A crash can leave bytes past the checkpoint; they were never confirmed, so drop them.
    if (bytes > 0) await localIo('truncate the partial file', () => handle.truncate(bytes));
    return file;
  }

  /** Bytes of the file received so far. */
  get bytes(): number {
    return this.#bytes;
  }

  async append(chunk: Uint8Array): Promise<void> {
    let done = 0;
    while (done < chunk.byteLength) {
      const { bytesWritten } = await localIo('write the partial file', () =>
        this.#handle.write(chunk, done, chunk.byteLength - done, this.#bytes + done),
      );
      done += bytesWritten;
    }
    this.#bytes += chunk.byteLength;
    const sinceBytes = this.#bytes - this.#checkpointedBytes;
    if (
      sinceBytes >= this.#policy.everyBytes ||
      (sinceBytes > 0 && this.#policy.now() - this.#checkpointedAt >= this.#policy.everyMs)
    ) {
      await this.checkpoint();
    }
  }

  /** Starts over from byte 0 (the server ignored our Range or refused it). */
  async restart(): Promise<void> {
    await localIo('truncate the partial file', () => this.#handle.truncate(0));
    this.#bytes = 0;
    await this.checkpoint();
  }

  /** Flushes the data, then records how much of it is durable. */
  async checkpoint(): Promise<void> {
    await localIo('flush the partial file', () => this.#handle.datasync());
    await localIo('write the checkpoint', () =>
      writeCheckpoint(this.#files.checkpoint, checkpointFor(this.#task, this.#bytes)),
    );
    this.#checkpointedBytes = this.#bytes;
    this.#checkpointedAt = this.#policy.now();
  }

  /** Flushes the data (before the file is renamed into place). */
  async flush(): Promise<void> {
    await localIo('flush the partial file', () => this.#handle.datasync());
  }

  async close(): Promise<void> {
    await this.#handle.close();
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
  await rm(files.part, { force: true });
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
