import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DownloadError } from './download-error.js';
import { IdleTimer } from './idle-timer.js';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('IdleTimer', () => {
  it('aborts once nothing arrived for the quiet period, counted from the last touch', () => {
    const idle = new IdleTimer(100);
    idle.touch();
    vi.advanceTimersByTime(60);
    idle.touch();
    vi.advanceTimersByTime(60); // 120 ms since the start, 60 since the last touch
    expect(idle.signal.aborted).toBe(false);
    vi.advanceTimersByTime(40);
    expect(idle.signal.aborted).toBe(true);
    expect(idle.signal.reason).toBeInstanceOf(DownloadError);
    expect(idle.signal.reason).toMatchObject({ code: 'download_failed', message: 'no data for 100 ms' });
  });

  it('never aborts once stopped', () => {
    const idle = new IdleTimer(100);
    idle.touch();
    idle.stop();
    vi.advanceTimersByTime(1000);
    expect(idle.signal.aborted).toBe(false);
  });
});
