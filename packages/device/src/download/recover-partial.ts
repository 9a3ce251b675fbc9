import type { UpgradeTask } from '@aloft/protocol';
import { isSamePackage, readCheckpoint } from './checkpoint.js';
import type { StreamingDigests } from './digests.js';
import type { PackageFiles } from './package-files.js';
import { discardPartial, fileSize } from './partial-file.js';

/**
 * Decides where a download starts, from what an earlier run (maybe of a process that crashed) left on disk:
 * - a checkpoint for the same package (module, version, size, digests; the URL may differ): resume at
 *   `min(bytesWritten, size of the partial file)` and feed those bytes to `digests`;
 * - anything else (no checkpoint, an unreadable one, another package): delete the partial file and start at 0.
 *
 * The caller truncates the partial file to the returned offset: bytes past the checkpoint were never confirmed.
 */
export async function recoverPartial(
  task: UpgradeTask,
  files: PackageFiles,
  digests: StreamingDigests,
  signal?: AbortSignal,
): Promise<number> {
  const checkpoint = await readCheckpoint(files.checkpoint);
  if (checkpoint === undefined || !isSamePackage(checkpoint, task)) {
    await discardPartial(files);
    return 0;
  }
  const offset = Math.min(checkpoint.bytesWritten, await fileSize(files.part), task.size);
  try {
    await digests.updateFromFile(files.part, offset, signal);
  } catch (error) {
    // fs streams reject with their own AbortError; the caller promises `signal.reason`.
    if (signal?.aborted) throw signal.reason;
    throw error;
  }
  return offset;
}
