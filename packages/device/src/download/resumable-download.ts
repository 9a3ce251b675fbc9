import type { KeyObject } from 'node:crypto';
import { rename } from 'node:fs/promises';
import type { UpgradeTask } from '@aloft/protocol';
import { removeCheckpoint } from './checkpoint.js';
import { assertVerifiable, StreamingDigests, verifyDigests } from './digests.js';
import { DownloadError } from './download-error.js';
import type { DownloadOptions, DownloadResult } from './download-options.js';
import { fetchHttpGet } from './fetch-http-get.js';
import type { HttpGet } from './http-get.js';
import { nodeHttpGet } from './node-http-get.js';
import { type PackageFiles, packageFiles } from './package-files.js';
import { discardPartial, PartialFile } from './partial-file.js';
import { createProgressThrottle, type ProgressThrottle } from './progress-throttle.js';
import { type Recovery, recoverPartial } from './recover-partial.js';
import { parseEd25519PublicKey, verifyPackageSignature } from './signature.js';
import { transfer } from './transfer.js';

/**
 * Downloads a firmware package over HTTP(S), resumably, and verifies it before handing it over.
 *
 * Steps, in order:
 * 1. `assertVerifiable`: the task names a digest it carries, and a sane size.
 * 2. `recoverPartial`: reuse what an earlier (maybe crashed) run left for the SAME package: re-hash the first
 *    `bytesWritten` bytes of `<module>.part`, cut off anything past them. Another package's leftovers are deleted.
 * 3. `transfer`: GET the rest with `Range: bytes=<n>-` (open-ended), hashing (md5 and sha256, one pass) as it
 *    goes and writing to disk in 256 KiB batches, never holding the file in memory; a durable checkpoint every
 *    `checkpointEveryBytes`/`checkpointEveryMs`, and one fdatasync at the end.
 *    A 200 to a Range request (no range support) or a 416 restarts from byte 0. A Content-Length is required
 *    and the size must equal `task.size`.
 * 4. `verifyDigests` (md5 and/or sha256, every one the task carries) and `verifyPackageSignature` (when a
 *    `publicKey` is configured).
 * 5. rename to `<dir>/<module>-<version>.bin`, remove the checkpoint, report 100%.
 *
 * Failures reject with a {@link DownloadError} whose `code` is the protocol's `UpgradeErrorCode`:
 * network errors and stalls → `download_failed` (checkpoint kept: calling again resumes, also with a freshly
 * signed URL), 403 → `url_expired`, 404 → `not_found`, size/digest/signature mismatch → `verify_failed`
 * (partial file and checkpoint deleted).
 *
 * Run at most one download per module and directory at a time; a second concurrent call would share files.
 */
export async function downloadFirmware(task: UpgradeTask, options: DownloadOptions): Promise<DownloadResult> {
  assertVerifiable(task);
  const publicKey = options.publicKey === undefined ? undefined : parseEd25519PublicKey(options.publicKey);
  options.signal?.throwIfAborted();
  try {
    return await download(task, options, publicKey);
  } catch (error) {
    if (error instanceof DownloadError || options.signal?.aborted) throw error;
    // Whatever is left is the device's own file system (permissions, disk full), not the network.
    throw new DownloadError('other', `local file error: ${(error as Error).message}`, { cause: error });
  }
}

async function download(
  task: UpgradeTask,
  options: DownloadOptions,
  publicKey: KeyObject | undefined,
): Promise<DownloadResult> {
  const now = options.now ?? (() => performance.now());
  // The data directory is created when the partial file is (see `PartialFile.open`).
  const files = packageFiles(options.dir, task);

  const digests = new StreamingDigests();
  const recovery = await recoverPartial(task, files, digests, options.signal);
  const progress =
    options.onProgress === undefined
      ? undefined
      : createProgressThrottle({ total: task.size, onProgress: options.onProgress, now });
  try {
    progress?.update(recovery.offset);
    const { resumedFrom, checkpointOnDisk } = await receive(
      task,
      options,
      files,
      digests,
      recovery,
      progress,
      now,
    );
    const actual = digests.digest();
    try {
      verifyDigests(task, actual);
      if (publicKey !== undefined) verifyPackageSignature(actual.sha256, task.signature, publicKey);
    } catch (error) {
      await discardPartial(files);
      throw error;
    }
    // Not made durable (no directory fsync): after a crash the flow downloads again, resuming from a checkpoint
    // if the removal below did not reach the disk either; nothing ever trusts a `.bin` left from before.
    await rename(files.part, files.final);
    if (checkpointOnDisk) await removeCheckpoint(files.checkpoint);
    progress?.finish();
    return { path: files.final, size: task.size, sha256: actual.sha256, md5: actual.md5, resumedFrom };
  } finally {
    // A progress report still waiting for its time must not follow the failure report.
    progress?.cancel();
  }
}

/**
 * Step 3: the rest of the file into `<module>.part`, flushed. Returns where the received body started, and
 * whether a checkpoint file is left to remove.
 */
async function receive(
  task: UpgradeTask,
  options: DownloadOptions,
  files: PackageFiles,
  digests: StreamingDigests,
  recovery: Recovery,
  progress: ProgressThrottle | undefined,
  now: () => number,
): Promise<{ resumedFrom: number; checkpointOnDisk: boolean }> {
  const policy = {
    everyBytes: options.checkpointEveryBytes ?? 1024 * 1024,
    everyMs: options.checkpointEveryMs ?? 1000,
    now,
  };
  const file = await PartialFile.open(files, task, policy, recovery.offset, recovery.checkpointOnDisk);
  let resumedFrom = recovery.offset;
  try {
    if (resumedFrom < task.size) {
      resumedFrom = await transfer({
        task,
        file,
        digests,
        httpGet: httpClient(options),
        progress,
        signal: options.signal,
        idleTimeoutMs: options.idleTimeoutMs ?? 60_000,
        bandwidth:
          options.bandwidthBytesPerSecond === undefined
            ? undefined
            : { bytesPerSecond: options.bandwidthBytesPerSecond, clock: options.bandwidthClock },
      });
    }
    await file.flush();
  } catch (error) {
    throw await settleFailure(error, file, files, options.signal);
  }
  await file.close();
  return { resumedFrom, checkpointOnDisk: file.checkpointOnDisk };
}

function httpClient(options: DownloadOptions): HttpGet {
  if (options.httpGet !== undefined) return options.httpGet;
  return options.fetchImpl === undefined ? nodeHttpGet : fetchHttpGet(options.fetchImpl);
}

/**
 * Leaves the disk ready for the next attempt and picks the error to reject with: a verification failure
 * deletes the partial file (the same bytes would fail again); anything else records a checkpoint of every
 * byte received, so a retry resumes exactly here.
 */
async function settleFailure(
  error: unknown,
  file: PartialFile,
  files: PackageFiles,
  signal: AbortSignal | undefined,
): Promise<unknown> {
  const badPackage = error instanceof DownloadError && error.code === 'verify_failed';
  if (!badPackage) await file.checkpoint().catch(() => {});
  await file.close().catch(() => {});
  if (badPackage) await discardPartial(files);
  if (signal?.aborted) return signal.reason;
  if (error instanceof DownloadError) return error;
  return new DownloadError('download_failed', `download interrupted: ${describe(error)}`, { cause: error });
}

/** Clients report "fetch failed" / "terminated" / "the connection broke" and put the useful part (ECONNRESET, …) in `cause`. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`;
}
