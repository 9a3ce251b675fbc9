import type { UpgradeTask } from '@aloft/protocol';
import { type LimiterClock, limitBandwidth, TokenBucket } from './bandwidth-limiter.js';
import type { StreamingDigests } from './digests.js';
import { DownloadError } from './download-error.js';
import type { HttpGet, HttpGetResponse } from './http-get.js';
import { planResponse, requestHeaders } from './http-response.js';
import { IdleTimer } from './idle-timer.js';
import type { PartialFile } from './partial-file.js';
import type { ProgressThrottle } from './progress-throttle.js';

/** Everything {@link transfer} needs; built by `downloadFirmware`. */
export interface TransferContext {
  task: UpgradeTask;
  file: PartialFile;
  digests: StreamingDigests;
  httpGet: HttpGet;
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
      idle.touch();
      const response = await ctx.httpGet(task.url, { headers: requestHeaders(offset), signal });
      try {
        const plan = planResponse(response, offset, task.size);
        if (plan.kind === 'restart') {
          await startOver();
          continue;
        }
        if (plan.startsAt !== offset) await startOver();
        await receiveBody(plan.body, ctx, signal, idle);
        return plan.startsAt;
      } finally {
        response.close();
      }
    }
  } catch (error) {
    // The client fails with the abort reason; this covers one that does not (the idle timer's is a DownloadError).
    throw signal.aborted ? signal.reason : error;
  } finally {
    idle.stop();
  }
}

async function receiveBody(
  source: HttpGetResponse['body'],
  ctx: TransferContext,
  signal: AbortSignal,
  idle: IdleTimer,
): Promise<void> {
  const { task, file, digests, progress } = ctx;
  const body =
    ctx.bandwidth === undefined
      ? source
      : limitBandwidth(
          source,
          new TokenBucket({
            bytesPerSecond: ctx.bandwidth.bytesPerSecond,
            ...(ctx.bandwidth.clock === undefined ? {} : { clock: ctx.bandwidth.clock }),
            signal,
          }),
        );
  for await (const chunk of body) {
    idle.touch();
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
