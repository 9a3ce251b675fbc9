import type { KeyObject } from 'node:crypto';
import type { UpgradeTask } from '@aloft/protocol';
import { DownloadError, type DownloadResult, downloadFirmware } from './download/index.js';
import { removeFile } from './download/remove-file.js';
import type { DeviceDownloadOptions, Installer, UpdateResult } from './ota-device-options.js';
import type { PendingReports } from './pending-reports.js';
import type { ProgressReporter } from './progress-reporter.js';
import { UpdateError } from './update-error.js';
import type { UpdateSession } from './update-session.js';

/** Retry settings with every default filled in. */
export interface RetryPolicy {
  attempts: number;
  delayMs: number;
  maxDelayMs: number;
  taskWaitMs: number;
}

/** What the update flow needs from the device. */
export interface UpdateFlowContext {
  session: UpdateSession;
  installer: Installer;
  progress: ProgressReporter;
  /** Where the downloader keeps its files. */
  downloadDir: string;
  publicKey: string | KeyObject | undefined;
  download: DeviceDownloadOptions;
  retry: RetryPolicy;
  pending: PendingReports;
  /** Ask the server to push the task again, with a freshly signed URL. */
  askForTask(module: string): Promise<void>;
  /** Record and report the module's new version: the proof of success. Must not wait for the network. */
  confirm(module: string, version: string): void;
  onProgress(task: UpgradeTask, percent: number): void;
}

/**
 * The built-in update, as named steps in order:
 * 1. `download`: resumable, verified download (digests, and the signature when the device has a public key),
 *    progress reported throttled; transient failures retried from the checkpoint, preferring a fresh push's URL.
 * 2. `install`: report `installing`, record the pending report first in the reboot flow, call the installer.
 * 3. `confirm`: report the new version (or leave that to the next start in the reboot flow).
 * A failure is reported with its code before the flow rejects with an {@link UpdateError}.
 */
export async function runUpdateFlow(ctx: UpdateFlowContext): Promise<UpdateResult> {
  const downloaded = await downloadStep(ctx);
  const rebootRequired = await installStep(ctx, downloaded.path);
  if (!rebootRequired) ctx.confirm(ctx.session.module, ctx.session.version);
  return { task: ctx.session.task, rebootRequired, resumedFrom: downloaded.resumedFrom };
}

async function downloadStep(ctx: UpdateFlowContext): Promise<DownloadResult> {
  const { session, retry } = ctx;
  for (let attempt = 1; ; attempt++) {
    const task = session.task;
    const offersBefore = session.offers;
    try {
      return await downloadFirmware(task, {
        ...ctx.download,
        dir: ctx.downloadDir,
        signal: session.signal,
        ...(ctx.publicKey === undefined ? {} : { publicKey: ctx.publicKey }),
        onProgress: (percent) => {
          ctx.onProgress(task, percent);
          report(ctx.progress.download(percent));
        },
      });
    } catch (error) {
      throwIfAborted(session);
      const failure =
        error instanceof DownloadError
          ? error
          : new DownloadError('other', (error as Error).message ?? String(error), { cause: error });
      if (!isRetryable(failure) || attempt >= retry.attempts) await fail(ctx, 'download', failure);
      if (failure.code === 'url_expired') {
        // The signed URL is stale: only a fresh push helps. Ask for one and wait for it.
        await ctx.askForTask(session.module).catch(() => {});
        const fresh = await session.waitForOffer(retry.taskWaitMs, offersBefore);
        throwIfAborted(session);
        if (!fresh) await fail(ctx, 'download', failure);
      } else {
        await session.waitForOffer(backoff(retry, attempt), offersBefore);
        throwIfAborted(session);
      }
    }
  }
}

async function installStep(ctx: UpdateFlowContext, file: string): Promise<boolean> {
  const { session, installer } = ctx;
  const task = session.task;
  const reboot = installer.reboot === true;
  throwIfAborted(session);
  report(ctx.progress.installing());
  // Recorded before install: a device that reboots inside `install` must still report on its next start.
  if (reboot) await ctx.pending.add({ module: session.module, version: session.version });
  try {
    await installer.install(file, task);
  } catch (error) {
    if (reboot) await ctx.pending.remove([{ module: session.module, version: session.version }]);
    await fail(ctx, 'install', new Error(messageOf(error), { cause: error }), 'install_failed');
  }
  await removeFile(file);
  return reboot;
}

/** Reports the failure to the server, then rejects with an {@link UpdateError}. */
async function fail(
  ctx: UpdateFlowContext,
  step: 'download' | 'install',
  error: Error,
  code = error instanceof DownloadError ? error.code : 'other',
): Promise<never> {
  report(ctx.progress.fail(code, error.message));
  throw new UpdateError(code, step, error.message, { cause: error });
}

/**
 * Reports are sent in order but never awaited: offline, MQTT.js holds them until it reconnects, and the flow
 * (and `close()`) must not wait for the network meanwhile.
 */
function report(sent: Promise<void>): void {
  sent.catch(() => {});
}

/** Network trouble and stale URLs may pass; a bad package, a missing file or a local error will not. */
function isRetryable(error: DownloadError): boolean {
  return error.code === 'download_failed' || error.code === 'timeout' || error.code === 'url_expired';
}

function backoff(retry: RetryPolicy, attempt: number): number {
  return Math.min(retry.maxDelayMs, retry.delayMs * 2 ** (attempt - 1));
}

function throwIfAborted(session: UpdateSession): void {
  if (session.signal.aborted) throw session.signal.reason;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
