/** Called with a whole percent (0..100) and the bytes of the file on disk so far. */
export type ProgressListener = (percent: number, bytes: number) => void;

/** Options for {@link createProgressThrottle}. */
export interface ProgressThrottleOptions {
  /** Total size in bytes (the task's `size`). */
  total: number;
  onProgress: ProgressListener;
  /** Milliseconds clock; default `performance.now`. */
  now?: () => number;
  /** Minimum time between two reports that cross no step boundary. Default 1000 ms. */
  intervalMs?: number;
  /** A report is always sent when the percent crosses a multiple of this. Default 10. */
  stepPercent?: number;
}

/** Turns a stream of byte counts into few, monotonic progress reports. */
export interface ProgressThrottle {
  /** Feed the current byte count; reports when due. A count lower than before never lowers the percent. */
  update(bytes: number): void;
  /** Reports 100 (once), for when the file is complete and verified. */
  finish(): void;
}

/**
 * Throttles download progress for MQTT progress reports: a device on a slow link must not publish a message
 * per chunk, yet the operator wants to see movement.
 *
 * A report is sent when the percent rose AND either `intervalMs` passed since the last report or a
 * `stepPercent` boundary (10, 20, …) was crossed. The very first update always reports (so a resumed download
 * says where it resumed). While downloading the percent stops at 99: 100 is only reported by `finish()`, once
 * the file is verified, because servers treat 100 as "downloaded". The percent never goes backwards, even when
 * a download restarts from byte 0 (server without Range support).
 */
export function createProgressThrottle(options: ProgressThrottleOptions): ProgressThrottle {
  const { total, onProgress } = options;
  const now = options.now ?? (() => performance.now());
  const intervalMs = options.intervalMs ?? 1000;
  const stepPercent = options.stepPercent ?? 10;
  let lastPercent = -1;
  let lastAt = Number.NEGATIVE_INFINITY;
  let lastBytes = 0;
  let finished = false;

  const report = (percent: number, bytes: number): void => {
    lastPercent = percent;
    lastAt = now();
    onProgress(percent, bytes);
  };

  return {
    update(bytes) {
      if (finished) return;
      lastBytes = bytes;
      const percent = total > 0 ? Math.min(99, Math.floor((bytes * 100) / total)) : 0;
      if (lastPercent < 0) {
        report(percent, bytes);
        return;
      }
      if (percent <= lastPercent) return;
      const crossedStep = Math.floor(percent / stepPercent) > Math.floor(lastPercent / stepPercent);
      if (crossedStep || now() - lastAt >= intervalMs) report(percent, bytes);
    },
    finish() {
      if (finished) return;
      finished = true;
      report(100, Math.max(lastBytes, total));
    },
  };
}
