import type { UpgradeTask } from '@aloft/protocol';
import { createBandwidthLimiter, type LimiterClock } from './bandwidth-limiter.js';
import type { StreamingDigests } from './digests.js';
import { DownloadError } from './download-error.js';
import { planResponse, requestHeaders } from './http-response.js';
import type { PartialFile } from './partial-file.js';
import type { ProgressThrottle } from './progress-throttle.js';

/** Everything {@link transfer} needs; built by `downloadFirmware`. */
export interface TransferContext {
  task: UpgradeTask;
  file: PartialFile;
  digests: StreamingDigests;
  fetchImpl: typeof fetch;
  progress: ProgressThrottle | undefined;
  signal: AbortSignal | undefined;
  idleTimeoutMs: number;
  bandwidth: { bytesPerSecond: number; clock: LimiterClock | undefined } | undefined;
}

/**
 * Fetches the rest of the file (from `file.bytes`) into the partial file, hashing as it goes.
 * Returns the offset the received body started at: `file.bytes` on entry when the server honoured the Range,
 * 0 when it ignored it (200) or refused it (416) and the download started over.
 */
export async function transfer(ctx: TransferContext): Promise<number> {
  const { task, file, digests } = ctx;
  const idle = new IdleTimer(ctx.idleTimeoutMs);
  const signal = ctx.signal === undefined ? idle.signal : AbortSignal.any([ctx.signal, idle.signal]);
  const startOver = async (): Promise<void> => {
    digests.reset();
    await file.restart();
  };
  try {
    // At most two rounds: a 416 to a resume leads to one request from byte 0, which cannot get `restart`.
    for (;;) {
      const offset = file.bytes;
      idle.reset();
      const response = await ctx.fetchImpl(task.url, { headers: requestHeaders(offset), signal });
      let plan: ReturnType<typeof planResponse>;
      try {
        plan = planResponse(response, offset, task.size);
      } catch (error) {
        await response.body?.cancel().catch(() => {});
        throw error;
      }
      if (plan.kind === 'restart') {
        await response.body?.cancel().catch(() => {});
        await startOver();
        continue;
      }
      if (plan.startsAt !== offset) await startOver();
      await receiveBody(plan.body, ctx, signal, idle);
      return plan.startsAt;
    }
  } finally {
    idle.clear();
  }
}

async function receiveBody(
  source: ReadableStream<Uint8Array>,
  ctx: TransferContext,
  signal: AbortSignal,
  idle: IdleTimer,
): Promise<void> {
  const { task, file, digests, progress } = ctx;
  const body =
    ctx.bandwidth === undefined
      ? source
      : source.pipeThrough(
          createBandwidthLimiter({
            bytesPerSecond: ctx.bandwidth.bytesPerSecond,
            ...(ctx.bandwidth.clock === undefined ? {} : { clock: ctx.bandwidth.clock }),
            signal,
          }),
        );
  for await (const chunk of body) {
    idle.reset();
    if (file.bytes + chunk.byteLength > task.size) {
      throw new DownloadError('verify_failed', `server sent more than the task's ${task.size} bytes`);
    }
    digests.update(chunk);
    await file.append(chunk);
    progress?.update(file.bytes);
  }
  if (file.bytes !== task.size) {
    throw new DownloadError('download_failed', `body ended after ${file.bytes} of ${task.size} bytes`);
  }
}

/** Aborts the request when no byte arrives for `ms` (a stalled connection would otherwise hang for minutes). */
class IdleTimer {
  readonly #controller = new AbortController();
  readonly #ms: number;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(ms: number) {
    this.#ms = ms;
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  reset(): void {
    this.clear();
    this.#timer = setTimeout(() => {
      this.#controller.abort(new DownloadError('download_failed', `no data for ${this.#ms} ms`));
    }, this.#ms);
  }

  clear(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
