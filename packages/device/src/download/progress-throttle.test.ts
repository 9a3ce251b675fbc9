import { describe, expect, it } from 'vitest';
import { createProgressThrottle } from './progress-throttle.js';

function harness(total = 1000) {
  let now = 0;
  const reports: Array<[number, number]> = [];
  const throttle = createProgressThrottle({
    total,
    now: () => now,
    onProgress: (percent, bytes) => reports.push([percent, bytes]),
  });
  return {
    throttle,
    reports,
    percents: () => reports.map(([p]) => p),
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('createProgressThrottle', () => {
  it('reports the first update at once, so a resumed download says where it resumed', () => {
    const h = harness();
    h.throttle.update(420);
    expect(h.reports).toEqual([[42, 420]]);
  });

  it('reports nothing more within a second unless a 10% boundary is crossed', () => {
    const h = harness();
    h.throttle.update(0);
    for (let bytes = 10; bytes < 100; bytes += 10) {
      h.advance(50);
      h.throttle.update(bytes);
    }
    expect(h.percents()).toEqual([0]);
    h.advance(50);
    h.throttle.update(100);
    expect(h.percents()).toEqual([0, 10]);
  });

  it('reports on every 10% boundary crossed, however fast the bytes come', () => {
    const h = harness();
    for (let bytes = 0; bytes < 1000; bytes += 7) h.throttle.update(bytes);
    expect(h.percents()).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
  });

  it('reports a rise within a step once a second has passed', () => {
    const h = harness();
    h.throttle.update(110);
    h.advance(999);
    h.throttle.update(130);
    h.advance(1);
    h.throttle.update(150);
    h.advance(1000);
    h.throttle.update(150); // no rise, nothing to say
    expect(h.percents()).toEqual([11, 15]);
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
