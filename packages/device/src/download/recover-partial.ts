import type { UpgradeTask } from '@aloft/protocol';
import { isSamePackage, loadCheckpoint } from './checkpoint.js';
import type { StreamingDigests } from './digests.js';
import type { PackageFiles } from './package-files.js';
import { discardPartial, fileSize } from './partial-file.js';

/** Where a download starts, and whether a checkpoint file is on disk (to remove once the download is done). */
export interface Recovery {
  offset: number;
  checkpointOnDisk: boolean;
}

/**
 * Decides where a download starts, from what an earlier run (maybe of a process that crashed) left on disk:
 * - a checkpoint for the same package (module, version, size, digests; the URL may differ): resume at
 *   `min(bytesWritten, size of the partial file)` and feed those bytes to `digests`;
 * - no checkpoint: start at 0 (nothing to delete: a partial file without one is truncated when it is opened);
 * - anything else (an unreadable checkpoint, another package's): delete it and the partial file, start at 0.
 *
 * The caller truncates the partial file to the returned offset: bytes past the checkpoint were never confirmed.
 */
export async function recoverPartial(
  task: UpgradeTask,
  files: PackageFiles,
  digests: StreamingDigests,
  signal?: AbortSignal,
): Promise<Recovery> {
  const checkpoint = await loadCheckpoint(files.checkpoint);
  if (checkpoint === 'missing') return { offset: 0, checkpointOnDisk: false };
  if (checkpoint === 'unusable' || !isSamePackage(checkpoint, task)) {
    await discardPartial(files);
    return { offset: 0, checkpointOnDisk: false };
  }
  const offset = Math.min(checkpoint.bytesWritten, await fileSize(files.part), task.size);
  try {
    await digests.updateFromFile(files.part, offset, signal);
  } catch (error) {
    // fs streams reject with their own AbortError; the caller promises `signal.reason`.
    if (signal?.aborted) throw signal.reason;
    throw error;
  }
  return { offset, checkpointOnDisk: true };
}
