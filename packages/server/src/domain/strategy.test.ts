import { describe, expect, it } from 'vitest';
import {
  DEFAULT_DEVICE_TIMEOUT_SECONDS,
  DEFAULT_RETRY_DELAY_SECONDS,
  type RolloutStrategyInput,
  validateStrategy,
} from './strategy.js';

const NOW = Date.UTC(2025, 0, 1);
const HOUR = 3_600_000;

function errorsOf(input: RolloutStrategyInput): readonly string[] {
  const result = validateStrategy(input, NOW);
  return result.ok ? [] : result.errors;
}

describe('validateStrategy', () => {
  it('fills in defaults for an empty strategy', () => {
    expect(validateStrategy({}, NOW)).toEqual({
      ok: true,
      strategy: {
        deviceTimeoutSeconds: DEFAULT_DEVICE_TIMEOUT_SECONDS,
        retries: { count: 0, delaySeconds: DEFAULT_RETRY_DELAY_SECONDS },
      },
    });
  });

  it('keeps a complete valid strategy as given', () => {
    const input = {
      startAt: NOW - HOUR,
      endAt: NOW + HOUR,
      maxPerMinute: 100,
      maxInFlight: 500,
      deviceTimeoutSeconds: 600,
      retries: { count: 3, delaySeconds: 30 },
      abort: { failurePercent: 5.5, minFinished: 20 },
      groups: [
        { percent: 0.5, successThreshold: 100 },
        { percent: 10, successThreshold: 95 },
        { percent: 100, successThreshold: 0 },
      ],
    };
    expect(validateStrategy(input, NOW)).toEqual({ ok: true, strategy: input });
  });

  it('rejects an end time before the start time', () => {
    expect(errorsOf({ startAt: NOW + 2 * HOUR, endAt: NOW + HOUR })).toEqual(['endAt must be after startAt']);
  });

  it('rejects an end time in the past, and exactly now', () => {
    expect(errorsOf({ endAt: NOW - 1 })).toEqual(['endAt is in the past']);
    expect(errorsOf({ endAt: NOW })).toEqual(['endAt is in the past']);
  });

  it.each([
    [{ maxPerMinute: 0 }, 'maxPerMinute must be at least 1, got 0'],
    [{ maxPerMinute: -5 }, 'maxPerMinute must be at least 1, got -5'],
    [{ maxPerMinute: 2.5 }, 'maxPerMinute must be a whole number, got 2.5'],
    [{ maxInFlight: 0 }, 'maxInFlight must be at least 1, got 0'],
    [{ maxInFlight: Number.POSITIVE_INFINITY }, 'maxInFlight must be a number'],
    [{ startAt: Number.NaN }, 'startAt must be a number'],
    [{ deviceTimeoutSeconds: 0 }, 'deviceTimeoutSeconds must be between 1 and 2592000, got 0'],
    [{ deviceTimeoutSeconds: 3_600_000 }, 'deviceTimeoutSeconds must be between 1 and 2592000, got 3600000'],
    [{ retries: { count: 11 } }, 'retries.count must be between 0 and 10, got 11'],
    [{ retries: { count: -1 } }, 'retries.count must be between 0 and 10, got -1'],
    [{ retries: { delaySeconds: -1 } }, 'retries.delaySeconds must be between 0 and 86400, got -1'],
    [
      { abort: { failurePercent: 101, minFinished: 10 } },
      'abort.failurePercent must be between 0 and 100, got 101',
    ],
    [{ abort: { failurePercent: 10, minFinished: 0 } }, 'abort.minFinished must be at least 1, got 0'],
  ] satisfies [RolloutStrategyInput, string][])('rejects %j: %s', (input, message) => {
    expect(errorsOf(input)).toEqual([message]);
  });

  it('rejects a value of the wrong type from an untyped caller', () => {
    const input = { maxPerMinute: '10' } as unknown as RolloutStrategyInput;
    expect(errorsOf(input)).toEqual(['maxPerMinute must be a number']);
  });

  describe('staged groups', () => {
    const groups = (...percents: number[]) => ({
      groups: percents.map((percent) => ({ percent, successThreshold: 90 })),
    });

    it('rejects an empty list', () => {
      expect(errorsOf({ groups: [] })).toEqual([
        'groups must not be empty (leave it out for a single stage)',
      ]);
    });

    it('rejects percents that do not increase', () => {
      expect(errorsOf(groups(10, 10, 100))).toEqual([
        'groups[1].percent must be more than groups[0].percent (10): percents are cumulative',
      ]);
      expect(errorsOf(groups(50, 20, 100))).toEqual([
        'groups[1].percent must be more than groups[0].percent (50): percents are cumulative',
      ]);
    });

    it('rejects a first group of 0 percent and percents out of range', () => {
      expect(errorsOf(groups(0, 100))).toEqual(['groups[0].percent must be more than 0']);
      expect(errorsOf(groups(10, 150))).toEqual([
        'groups[1].percent must be between 0 and 100, got 150',
        "the last group's percent must be 100, got 150",
      ]);
    });

    it('requires the last group to reach 100 percent', () => {
      expect(errorsOf(groups(10, 50))).toEqual(["the last group's percent must be 100, got 50"]);
    });

    it('rejects success thresholds out of range', () => {
      expect(errorsOf({ groups: [{ percent: 100, successThreshold: -1 }] })).toEqual([
        'groups[0].successThreshold must be between 0 and 100, got -1',
      ]);
    });
  });

  it('reports every problem at once', () => {
    expect(errorsOf({ maxPerMinute: 0, maxInFlight: 0, endAt: NOW - 1 })).toHaveLength(3);
  });
});
