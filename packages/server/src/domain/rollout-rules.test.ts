import { describe, expect, it } from 'vitest';
import {
  countIn,
  dispatchBudget,
  isTimedOut,
  jobIsFinished,
  nextGroupMayStart,
  retryDue,
  shouldAbort,
} from './rollout-rules.js';

const NOW = Date.UTC(2025, 0, 1);

describe('countIn', () => {
  it('sums the given states and counts missing ones as 0', () => {
    expect(countIn({ queued: 2, notified: 3, failed: 9 }, ['queued', 'notified', 'installing'])).toBe(5);
  });
});

describe('shouldAbort', () => {
  const rule = { failurePercent: 10, minFinished: 20 };

  it('never aborts without a rule', () => {
    expect(shouldAbort({ failed: 1000 }, undefined)).toBe(false);
  });

  it('waits until enough devices have finished', () => {
    expect(shouldAbort({ failed: 19 }, rule)).toBe(false);
    expect(shouldAbort({ failed: 20 }, rule)).toBe(true);
  });

  it('aborts only when failures are strictly above the threshold', () => {
    expect(shouldAbort({ succeeded: 18, failed: 2 }, rule)).toBe(false);
    expect(shouldAbort({ succeeded: 17, failed: 2, timed_out: 1 }, rule)).toBe(true);
  });

  it('ignores cancelled and unfinished devices', () => {
    expect(shouldAbort({ succeeded: 18, failed: 2, cancelled: 500, queued: 900, installing: 50 }, rule)).toBe(
      false,
    );
    expect(shouldAbort({ failed: 5, cancelled: 500 }, { failurePercent: 10, minFinished: 1 })).toBe(true);
  });

  it('with 0 percent aborts on the first failure once enough finished', () => {
    expect(shouldAbort({ succeeded: 99, failed: 1 }, { failurePercent: 0, minFinished: 100 })).toBe(true);
    expect(shouldAbort({ succeeded: 100 }, { failurePercent: 0, minFinished: 100 })).toBe(false);
  });
});

describe('nextGroupMayStart', () => {
  it('starts the next group once the success threshold of the whole group is reached', () => {
    expect(nextGroupMayStart({ succeeded: 89, installing: 10, failed: 1 }, 90)).toBe(false);
    expect(nextGroupMayStart({ succeeded: 90, installing: 9, failed: 1 }, 90)).toBe(true);
  });

  it('counts queued and cancelled devices in the group as not succeeded', () => {
    expect(nextGroupMayStart({ succeeded: 9, queued: 1 }, 100)).toBe(false);
    expect(nextGroupMayStart({ succeeded: 9, cancelled: 1 }, 95)).toBe(false);
  });

  it('lets an empty group or a 0 threshold through', () => {
    expect(nextGroupMayStart({}, 100)).toBe(true);
    expect(nextGroupMayStart({ queued: 10 }, 0)).toBe(true);
  });
});

describe('dispatchBudget', () => {
  it('is unlimited without limits', () => {
    expect(dispatchBudget({ inFlight: 10_000, dispatchedInLastMinute: 10_000 })).toBe(
      Number.POSITIVE_INFINITY,
    );
  });

  it('is the room left under the tighter limit', () => {
    expect(
      dispatchBudget({ maxPerMinute: 100, maxInFlight: 50, inFlight: 45, dispatchedInLastMinute: 20 }),
    ).toBe(5);
    expect(
      dispatchBudget({ maxPerMinute: 100, maxInFlight: 500, inFlight: 45, dispatchedInLastMinute: 80 }),
    ).toBe(20);
  });

  it('is never negative when a limit was lowered below what is already out', () => {
    expect(dispatchBudget({ maxInFlight: 10, inFlight: 25, dispatchedInLastMinute: 0 })).toBe(0);
    expect(dispatchBudget({ maxPerMinute: 10, inFlight: 0, dispatchedInLastMinute: 30 })).toBe(0);
  });
});

describe('retryDue', () => {
  const policy = { count: 2, delaySeconds: 60 };

  it('waits for the delay, then is due', () => {
    const upgrade = { state: 'failed' as const, retriesUsed: 0, finishedAt: NOW };
    expect(retryDue(upgrade, policy, NOW + 59_999)).toEqual({ retry: 'wait', at: NOW + 60_000 });
    expect(retryDue(upgrade, policy, NOW + 60_000)).toEqual({ retry: 'due' });
  });

  it('retries timed-out upgrades too', () => {
    expect(retryDue({ state: 'timed_out', retriesUsed: 1, finishedAt: NOW }, policy, NOW + 60_000)).toEqual({
      retry: 'due',
    });
  });

  it('never retries once the retries are used up', () => {
    expect(retryDue({ state: 'failed', retriesUsed: 2, finishedAt: NOW }, policy, NOW + 3_600_000)).toEqual({
      retry: 'never',
    });
    expect(
      retryDue({ state: 'failed', retriesUsed: 0, finishedAt: NOW }, { count: 0, delaySeconds: 0 }, NOW),
    ).toEqual({ retry: 'never' });
  });

  it('never retries succeeded, cancelled or active upgrades', () => {
    for (const state of ['succeeded', 'cancelled', 'queued', 'installing'] as const) {
      expect(retryDue({ state, retriesUsed: 0, finishedAt: NOW }, policy, NOW + 3_600_000)).toEqual({
        retry: 'never',
      });
    }
  });
});

describe('isTimedOut', () => {
  it('times out exactly at the limit, not before', () => {
    expect(isTimedOut(NOW, 60, NOW + 59_999)).toBe(false);
    expect(isTimedOut(NOW, 60, NOW + 60_000)).toBe(true);
  });
});

describe('jobIsFinished', () => {
  it('is finished when nothing is active and no retry is pending', () => {
    expect(jobIsFinished({ succeeded: 90, failed: 5, timed_out: 3, cancelled: 2 })).toBe(true);
    expect(jobIsFinished({})).toBe(true);
  });

  it('is not finished while any upgrade is active', () => {
    for (const state of ['queued', 'notified', 'downloading', 'installing'] as const) {
      expect(jobIsFinished({ succeeded: 10, [state]: 1 })).toBe(false);
    }
  });

  it('is not finished while a failed upgrade waits for its retry', () => {
    expect(jobIsFinished({ succeeded: 10, failed: 1 }, 1)).toBe(false);
  });
});
