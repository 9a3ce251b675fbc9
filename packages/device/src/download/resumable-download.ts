import type { KeyObject } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import type { UpgradeTask } from '@aloft/protocol';
import type { LimiterClock } from './bandwidth-limiter.js';
import { removeCheckpoint } from './checkpoint.js';
import { assertVerifiable, StreamingDigests, verifyDigests } from './digests.js';
import { DownloadError } from './download-error.js';
import { renameDurably } from './durable-files.js';
import { type PackageFiles, packageFiles } from './package-files.js';
import { discardPartial, PartialFile } from './partial-file.js';
import { createProgressThrottle, type ProgressListener } from './progress-throttle.js';
import { recoverPartial } from './recover-partial.js';
import { parseEd25519PublicKey, verifyPackageSignature } from './signature.js';
import { transfer } from './transfer.js';

/** Options for {@link downloadFirmware}. */
export interface DownloadOptions {
  /** Data directory; holds `<module>.part`, `<module>.checkpoint.json` and the verified `<module>-<version>.bin`. */
  dir: string;
  /**
   * HTTP client; default the global `fetch` (undici). Fetch rather than node:http because it follows redirects
   * (signed URL → CDN), takes an AbortSignal, streams the body, and lets tests and the simulator inject a client.
   * Its transparent decompression never applies: raw bytes are requested and any Content-Encoding is refused.
   */
  fetchImpl?: typeof fetch;
  /**
   * Progress, throttled: at most once a second plus at every 10% boundary, never backwards, 99 at most while
   * downloading and 100 once the file is verified. See {@link createProgressThrottle}.
   */
  onProgress?: ProgressListener;
  /** Cancels the download; the promise then rejects with `signal.reason` and the checkpoint is kept. */
  signal?: AbortSignal;
  /**
   * ed25519 public key (PEM, raw 32 bytes in base64, or a KeyObject). When set, every task must carry a valid
   * `signature` (see {@link verifyPackageSignature} for the scheme), else `verify_failed`.
   * When not set, `task.signature` is ignored.
   */
  publicKey?: string | KeyObject;
  /** Caps the download rate (token bucket); the fleet simulator uses it to model slow links. */
  bandwidthBytesPerSecond?: number;
  /** Clock the bandwidth cap waits on; default real time. Tests and simulations pass a virtual clock. */
  bandwidthClock?: LimiterClock;
  /** Milliseconds clock for progress throttling and checkpoint timing; default `performance.now`. */
  now?: () => number;
  /**
   * A checkpoint (fdatasync of the partial file, then a durable checkpoint write) is taken after this many new
   * bytes or `checkpointEveryMs` with new bytes, whichever comes first, and on every failure. A crash loses at
   * most the bytes since the last one. Default 1 MiB.
   */
  checkpointEveryBytes?: number;
  /** See `checkpointEveryBytes`. Default 1000 ms. */
  checkpointEveryMs?: number;
  /** Gives up (`download_failed`, checkpoint kept) when no byte arrives for this long. Default 60 000 ms. */
  idleTimeoutMs?: number;
}

/** A downloaded and verified firmware file. */
export interface DownloadResult {
  /** `<dir>/<module>-<version>.bin` (module and version made file-name safe). */
  path: string;
  size: number;
  /** Lower-case hex digests of the file. */
  sha256: string;
  md5: string;
  /**
   * Byte offset the download resumed at; 0 when it started from scratch, including when a resume was
   * answered with 200 (no range support) or 416 and it started over.
   */
  resumedFrom: number;
}

/**
 * Downloads a firmware package over HTTP(S), resumably, and verifies it before handing it over.
 *
 * Steps, in order:
 * 1. `assertVerifiable`: the task names a digest it carries, and a sane size.
 * 2. `recoverPartial`: reuse what an earlier (maybe crashed) run left for the SAME package: re-hash the first
 *    `bytesWritten` bytes of `<module>.part`, cut off anything past them. Another package's leftovers are deleted.
 * 3. `transfer`: GET the rest with `Range: bytes=<n>-` (open-ended), streaming to disk and hashing as it goes,
 *    never holding the file in memory; a durable checkpoint every `checkpointEveryBytes`/`checkpointEveryMs`.
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
  const { signal } = options;
  const now = options.now ?? (() => performance.now());
  const files = packageFiles(options.dir, task);
  await mkdir(options.dir, { recursive: true });

  const digests = new StreamingDigests();
  const recovered = await recoverPartial(task, files, digests, signal);
  const progress =
    options.onProgress === undefined
      ? undefined
      : createProgressThrottle({ total: task.size, onProgress: options.onProgress, now });
  progress?.update(recovered);

  const policy = {
    everyBytes: options.checkpointEveryBytes ?? 1024 * 1024,
    everyMs: options.checkpointEveryMs ?? 1000,
    now,
  };
  const file = await PartialFile.open(files, task, policy, recovered);
  let resumedFrom = recovered;
  try {
    if (recovered < task.size) {
      resumedFrom = await transfer({
        task,
        file,
        digests,
        fetchImpl: options.fetchImpl ?? fetch,
        progress,
        signal,
        idleTimeoutMs: options.idleTimeoutMs ?? 60_000,
        bandwidth:
          options.bandwidthBytesPerSecond === undefined
            ? undefined
            : { bytesPerSecond: options.bandwidthBytesPerSecond, clock: options.bandwidthClock },
      });
    }
    await file.flush();
  } catch (error) {
    throw await settleFailure(error, file, files, signal);
  }
  await file.close();

  const actual = digests.digest();
  try {
    verifyDigests(task, actual);
    if (publicKey !== undefined) verifyPackageSignature(actual.sha256, task.signature, publicKey);
  } catch (error) {
    await discardPartial(files);
    throw error;
  }
  await renameDurably(files.part, files.final);
  await removeCheckpoint(files.checkpoint);
  progress?.finish();
  return { path: files.final, size: task.size, sha256: actual.sha256, md5: actual.md5, resumedFrom };
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

/** undici reports "fetch failed" / "terminated" and puts the useful part (ECONNRESET, …) in `cause`. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`;
}
