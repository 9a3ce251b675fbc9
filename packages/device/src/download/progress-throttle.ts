/** Called with a whole percent (0..100) and the bytes of the file received so far. */
export type ProgressListener = (percent: number, bytes: number) => void;

/** Runs `run` once after `ms` milliseconds; the returned function cancels it. */
export type Schedule = (run: () => void, ms: number) => () => void;

/** Options for {@link createProgressThrottle}. */
export interface ProgressThrottleOptions {
  /** Total size in bytes (the task's `size`). */
  total: number;
  onProgress: ProgressListener;
  /** Milliseconds clock; default `performance.now`. */
  now?: () => number;
  /** A report is due when the percent crosses a multiple of this. Default 10. */
  stepPercent?: number;
  /** A rise within a step is due once this long passed since the last report. Default 5000 ms. */
  intervalMs?: number;
  /**
   * No two reports closer than this (the first one and the final 100 aside). A report that comes due sooner is
   * sent when the time is up, with the percent as it stands then. Default 1000 ms.
   */
  minIntervalMs?: number;
  /** Timer for those delayed reports; default `setTimeout` (unref'd: it never keeps a process alive). */
  schedule?: Schedule;
}

/** Turns a stream of byte counts into few, monotonic progress reports. */
export interface ProgressThrottle {
  /** Feed the current byte count; reports when due. A count lower than before never lowers the percent. */
  update(bytes: number): void;
  /** Reports 100 (once, at once), for when the file is complete and verified. */
  finish(): void;
  /** Drops a report waiting for its time: the download stopped, and a failure report follows instead. */
  cancel(): void;
}

const realSchedule: Schedule = (run, ms) => {
  const timer = setTimeout(run, ms);
  timer.unref();
  return () => clearTimeout(timer);
};

/**
 * Throttles download progress for MQTT progress reports. Each report is a QoS 1 message the server stores as a
 * state change, so it should say something: the operator wants to see a download move, not every chunk of it.
 *
 * A report is due when the percent rose across a `stepPercent` boundary (10, 20, …), or rose at all and
 * `intervalMs` passed since the last report (a slow link still shows life). Reports are at least `minIntervalMs`
 * apart: a fast download reports its start and its end (and a step a second in between), however many
 * boundaries it crosses, and one that stalls still reports how far it got. The very first update always
 * reports (so a resumed download says where it resumed). While downloading the percent stops at 99: 100 is only
 * reported by `finish()`, once the file is verified, because servers treat 100 as "downloaded". The percent
 * never goes backwards, even when a download restarts from byte 0 (server without Range support).
 */
export function createProgressThrottle(options: ProgressThrottleOptions): ProgressThrottle {
  const { total, onProgress } = options;
  const now = options.now ?? (() => performance.now());
  const stepPercent = options.stepPercent ?? 10;
  const intervalMs = options.intervalMs ?? 5000;
  const minIntervalMs = options.minIntervalMs ?? 1000;
  const schedule = options.schedule ?? realSchedule;
  let lastPercent = -1;
  let lastAt = Number.NEGATIVE_INFINITY;
  let lastBytes = 0;
  let finished = false;
  let cancelWait: (() => void) | undefined;

  const percentOf = (bytes: number): number =>
    total > 0 ? Math.min(99, Math.floor((bytes * 100) / total)) : 0;
  const isDue = (percent: number): boolean =>
    percent > lastPercent &&
    (Math.floor(percent / stepPercent) > Math.floor(lastPercent / stepPercent) ||
      now() - lastAt >= intervalMs);
  const report = (percent: number, bytes: number): void => {
    lastPercent = percent;
    lastAt = now();
    onProgress(percent, bytes);
  };
  const cancel = (): void => {
    cancelWait?.();
    cancelWait = undefined;
  };

  return {
    update(bytes) {
      if (finished) return;
      lastBytes = bytes;
      const percent = percentOf(bytes);
      if (lastPercent < 0) {
        report(percent, bytes);
        return;
      }
      // A report already waits for its time; it will carry the bytes as they are then.
      if (cancelWait !== undefined || !isDue(percent)) return;
      const wait = lastAt + minIntervalMs - now();
      if (wait <= 0) {
        report(percent, bytes);
        return;
      }
      cancelWait = schedule(() => {
        cancelWait = undefined;
        const latest = percentOf(lastBytes);
        if (finished || latest <= lastPercent) return;
        try {
          report(latest, lastBytes);
        } catch {
          // A listener that throws loses this report; from a timer it could only crash the process.
        }
      }, wait);
    },
    finish() {
      if (finished) return;
      finished = true;
      cancel();
      report(100, Math.max(lastBytes, total));
    },
    cancel,
  };
}
