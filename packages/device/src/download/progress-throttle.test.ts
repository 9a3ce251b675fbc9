import { describe, expect, it } from 'vitest';
import { createProgressThrottle, type ProgressThrottleOptions } from './progress-throttle.js';

/** A throttle on virtual time: `advance` moves the clock and runs the delayed reports that fell due. */
function harness(total = 1000, options: Partial<ProgressThrottleOptions> = {}) {
  let now = 0;
  const timers = new Set<{ at: number; run: () => void }>();
  const reports: Array<[number, number]> = [];
  const throttle = createProgressThrottle({
    total,
    now: () => now,
    schedule: (run, ms) => {
      const timer = { at: now + ms, run };
      timers.add(timer);
      return () => timers.delete(timer);
    },
    onProgress: (percent, bytes) => reports.push([percent, bytes]),
    ...options,
  });
  return {
    throttle,
    reports,
    timers,
    percents: () => reports.map(([p]) => p),
    advance: (ms: number) => {
      now += ms;
      for (const timer of [...timers].sort((a, b) => a.at - b.at)) {
        if (timer.at > now) continue;
        timers.delete(timer);
        timer.run();
      }
    },
  };
}

describe('createProgressThrottle', () => {
  it('reports the first update at once, so a resumed download says where it resumed', () => {
    const h = harness();
    h.throttle.update(420);
    expect(h.reports).toEqual([[42, 420]]);
  });

  it('reports a fast download as its start and its end, whatever boundaries it crosses', () => {
    const h = harness();
    for (let bytes = 0; bytes < 1000; bytes += 7) {
      h.throttle.update(bytes);
      h.advance(1); // the whole file in 143 ms
    }
    h.throttle.finish();
    expect(h.percents()).toEqual([0, 100]);
    expect(h.timers.size).toBe(0); // the report that was waiting for its time went with finish()
  });

  it('reports a boundary crossed too soon once the second is up, with the percent as it stands then', () => {
    const h = harness();
    h.throttle.update(0);
    h.advance(100);
    h.throttle.update(120); // 12%: a step, but only 100 ms after the last report
    expect(h.percents()).toEqual([0]);
    h.advance(400);
    h.throttle.update(170);
    h.advance(499);
    expect(h.percents()).toEqual([0]);
    h.advance(1);
    expect(h.reports).toEqual([
      [0, 0],
      [17, 170],
    ]);
  });

  it('reports a download that stalls right after a boundary, instead of leaving the old percent', () => {
    const h = harness();
    h.throttle.update(0);
    h.advance(10);
    h.throttle.update(500); // then nothing more arrives
    h.advance(10_000);
    expect(h.percents()).toEqual([0, 50]);
  });

  it('reports every step of a slow download, at most once a second', () => {
    const h = harness();
    for (let bytes = 0; bytes < 1000; bytes += 50) {
      h.throttle.update(bytes);
      h.advance(600); // 5% every 0.6 s
    }
    h.throttle.finish();
    expect(h.percents()).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
  });

  it('reports a rise within a step only every five seconds', () => {
    const h = harness();
    h.throttle.update(110);
    h.advance(4999);
    h.throttle.update(130);
    h.advance(1);
    h.throttle.update(150);
    h.advance(5000);
    h.throttle.update(150); // no rise, nothing to say
    expect(h.percents()).toEqual([11, 15]);
  });

  it('takes other step and interval settings', () => {
    const h = harness(1000, { stepPercent: 25, intervalMs: 60_000, minIntervalMs: 0 });
    for (let bytes = 0; bytes < 1000; bytes += 10) h.throttle.update(bytes);
    expect(h.percents()).toEqual([0, 25, 50, 75]);
  });

  it('never goes backwards when the download restarts from zero', () => {
    const h = harness();
    h.throttle.update(500);
    h.advance(5000);
    h.throttle.update(0);
    h.throttle.update(300);
    h.advance(5000);
    h.throttle.update(510);
    expect(h.percents()).toEqual([50, 51]);
  });

  it('drops a waiting report when cancelled: a failure report follows instead', () => {
    const h = harness();
    h.throttle.update(0);
    h.throttle.update(500);
    h.throttle.cancel();
    h.advance(10_000);
    expect(h.percents()).toEqual([0]);
  });

  it('keeps a throwing listener inside a delayed report, which has no caller to fail', () => {
    let calls = 0;
    const h = harness(1000, {
      onProgress: () => {
        calls++;
        if (calls > 1) throw new Error('listener bug');
      },
    });
    h.throttle.update(0);
    h.throttle.update(500);
    expect(() => h.advance(1000)).not.toThrow();
    expect(calls).toBe(2);
  });

  it('holds 99 while downloading and reports 100 once on finish', () => {
    const h = harness();
    h.throttle.update(0);
    h.advance(2000);
    h.throttle.update(1000);
    h.throttle.finish();
    h.throttle.finish();
    h.throttle.update(1000);
    expect(h.reports).toEqual([
      [0, 0],
      [99, 1000],
      [100, 1000],
    ]);
  });

  it('handles an empty file', () => {
    const h = harness(0);
    h.throttle.update(0);
    h.throttle.finish();
    expect(h.percents()).toEqual([0, 100]);
  });
});
