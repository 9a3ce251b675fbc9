import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { UpgradeTask } from '@aloft/protocol';
import { DownloadError } from './download-error.js';

/** Lower-case hex digests of a whole file. */
export interface FileDigests {
  md5: string;
  sha256: string;
}

/**
 * md5 and sha256 of the bytes seen so far, updated while streaming. Both are always computed: the task may
 * carry either or both, the signature is over the sha256, and the result reports both. Hashing is far cheaper
 * than the network on any device that runs Node.
 */
export class StreamingDigests {
  #md5: Hash = createHash('md5');
  #sha256: Hash = createHash('sha256');

  update(chunk: Uint8Array): void {
    this.#md5.update(chunk);
    this.#sha256.update(chunk);
  }

  /** Forgets everything (the download restarted from byte 0). */
  reset(): void {
    this.#md5 = createHash('md5');
    this.#sha256 = createHash('sha256');
  }

  digest(): FileDigests {
    return { md5: this.#md5.digest('hex'), sha256: this.#sha256.digest('hex') };
  }

  /** Feeds the first `bytes` bytes of a file, to continue a download that resumes at `bytes`. */
  async updateFromFile(path: string, bytes: number, signal?: AbortSignal): Promise<void> {
    if (bytes === 0) return;
    const stream = createReadStream(path, { start: 0, end: bytes - 1, highWaterMark: 1024 * 1024, signal });
    for await (const chunk of stream) this.update(chunk as Buffer);
  }
}

/**
 * Checks the digests against the task: the one named by `digestAlgorithm` must be present, and every digest the
 * task carries must match (a task with both is verified on both).
 */
export function verifyDigests(task: UpgradeTask, actual: FileDigests): void {
  for (const algorithm of ['md5', 'sha256'] as const) {
    const expected = task[algorithm];
    if (expected !== undefined && expected.toLowerCase() !== actual[algorithm]) {
      throw new DownloadError(
        'verify_failed',
        `${algorithm} mismatch: expected ${expected.toLowerCase()}, got ${actual[algorithm]}`,
      );
    }
  }
}

/** Refuses a task that names a digest algorithm but carries no such digest: it could never be verified. */
export function assertVerifiable(task: UpgradeTask): void {
  if (task[task.digestAlgorithm] === undefined) {
    throw new DownloadError('other', `task names digest ${task.digestAlgorithm} but carries none`);
  }
  if (!Number.isSafeInteger(task.size) || task.size < 0) {
    throw new DownloadError('other', `task size ${task.size} is not a byte count`);
  }
}
