/** Retry a failed or timed-out device upgrade. */
export interface RetryPolicy {
  /** Retries after the first attempt, 0..10. */
  readonly count: number;
  /** Wait after a failure before re-queueing, in seconds. */
  readonly delaySeconds: number;
}

/** Abort the job when failures exceed `failurePercent` of the finished devices, once `minFinished` have finished. */
export interface AbortRule {
  /** 0..100; the job aborts when failed / finished is strictly above it. */
  readonly failurePercent: number;
  /** At least 1: a single early failure must not abort a rollout to thousands. */
  readonly minFinished: number;
}

/** One stage of a staged rollout. */
export interface StagedGroup {
  /** Cumulative share of the job's devices, (0, 100], increasing from group to group; the last is 100. */
  readonly percent: number;
  /** Percent (0..100) of this group's devices that must succeed before the next group starts. */
  readonly successThreshold: number;
}

/** How a job rolls out, validated and with defaults filled in. Times are epoch milliseconds. */
export interface RolloutStrategy {
  /** Dispatch nothing before this. */
  readonly startAt?: number;
  /** Dispatch nothing after this. */
  readonly endAt?: number;
  /** New devices told per minute. */
  readonly maxPerMinute?: number;
  /** Devices told and not finished at once. */
  readonly maxInFlight?: number;
  /** A device without progress for this long times out. */
  readonly deviceTimeoutSeconds: number;
  readonly retries: RetryPolicy;
  /** Absent: never abort on failures. */
  readonly abort?: AbortRule;
  /** Absent: one group of everything. */
  readonly groups?: readonly StagedGroup[];
}

/** A strategy as an operator sends it (REST, CLI): everything optional, nothing trusted. */
export interface RolloutStrategyInput {
  readonly startAt?: number | undefined;
  readonly endAt?: number | undefined;
  readonly maxPerMinute?: number | undefined;
  readonly maxInFlight?: number | undefined;
  readonly deviceTimeoutSeconds?: number | undefined;
  readonly retries?:
    | { readonly count?: number | undefined; readonly delaySeconds?: number | undefined }
    | undefined;
  readonly abort?: AbortRule | undefined;
  readonly groups?: readonly StagedGroup[] | undefined;
}

export type StrategyValidation =
  | { readonly ok: true; readonly strategy: RolloutStrategy }
  | { readonly ok: false; readonly errors: readonly string[] };

export const DEFAULT_DEVICE_TIMEOUT_SECONDS = 3600;
/** 30 days: long enough for slow links, short enough to catch milliseconds typed as seconds. */
export const MAX_DEVICE_TIMEOUT_SECONDS = 30 * 24 * 3600;
export const DEFAULT_RETRY_DELAY_SECONDS = 60;
export const MAX_RETRY_DELAY_SECONDS = 24 * 3600;
export const MAX_RETRIES = 10;

/**
 * Checks a strategy and fills in defaults. Returns every problem at once, each as a sentence naming
 * the field, so an API can show them all. `now` (epoch ms) is a parameter to keep this pure.
 */
export function validateStrategy(input: RolloutStrategyInput, now: number): StrategyValidation {
  const errors: string[] = [];
  const whole = (field: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): boolean =>
    check(errors, field, value, min, max, true);

  const { startAt, endAt, maxPerMinute, maxInFlight } = input;
  if (startAt !== undefined) whole('startAt', startAt, 0);
  if (endAt !== undefined && whole('endAt', endAt, 0)) {
    if (endAt <= now) errors.push('endAt is in the past');
    if (typeof startAt === 'number' && endAt <= startAt) errors.push('endAt must be after startAt');
  }
  if (maxPerMinute !== undefined) whole('maxPerMinute', maxPerMinute, 1);
  if (maxInFlight !== undefined) whole('maxInFlight', maxInFlight, 1);
  const deviceTimeoutSeconds = input.deviceTimeoutSeconds ?? DEFAULT_DEVICE_TIMEOUT_SECONDS;
  whole('deviceTimeoutSeconds', deviceTimeoutSeconds, 1, MAX_DEVICE_TIMEOUT_SECONDS);

  const retries = {
    count: input.retries?.count ?? 0,
    delaySeconds: input.retries?.delaySeconds ?? DEFAULT_RETRY_DELAY_SECONDS,
  };
  whole('retries.count', retries.count, 0, MAX_RETRIES);
  whole('retries.delaySeconds', retries.delaySeconds, 0, MAX_RETRY_DELAY_SECONDS);

  const { abort, groups } = input;
  if (abort !== undefined) {
    check(errors, 'abort.failurePercent', abort.failurePercent, 0, 100, false);
    whole('abort.minFinished', abort.minFinished, 1);
  }
  if (groups !== undefined) validateGroups(errors, groups);

  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    strategy: {
      ...(startAt !== undefined && { startAt }),
      ...(endAt !== undefined && { endAt }),
      ...(maxPerMinute !== undefined && { maxPerMinute }),
      ...(maxInFlight !== undefined && { maxInFlight }),
      deviceTimeoutSeconds,
      retries,
      ...(abort !== undefined && {
        abort: { failurePercent: abort.failurePercent, minFinished: abort.minFinished },
      }),
      ...(groups !== undefined && {
        groups: groups.map(({ percent, successThreshold }) => ({ percent, successThreshold })),
      }),
    },
  };
}

function validateGroups(errors: string[], groups: readonly StagedGroup[]): void {
  if (groups.length === 0) {
    errors.push('groups must not be empty (leave it out for a single stage)');
    return;
  }
  let previous = 0;
  groups.forEach((group, i) => {
    const field = `groups[${i}]`;
    if (check(errors, `${field}.percent`, group.percent, 0, 100, false)) {
      if (group.percent <= previous) {
        errors.push(
          i === 0
            ? `${field}.percent must be more than 0`
            : `${field}.percent must be more than groups[${i - 1}].percent (${previous}): percents are cumulative`,
        );
      }
      previous = Math.max(previous, group.percent);
    }
    check(errors, `${field}.successThreshold`, group.successThreshold, 0, 100, false);
  });
  const last = groups[groups.length - 1];
  if (last && typeof last.percent === 'number' && last.percent !== 100) {
    errors.push(`the last group's percent must be 100, got ${last.percent}`);
  }
}

/** Pushes a message and returns false unless `value` is a finite number (whole if asked) in [min, max]. */
function check(
  errors: string[],
  field: string,
  value: unknown,
  min: number,
  max: number,
  wholeNumber: boolean,
): value is number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    errors.push(`${field} must be a number`);
    return false;
  }
  if (wholeNumber && !Number.isInteger(value)) {
    errors.push(`${field} must be a whole number, got ${value}`);
    return false;
  }
  if (value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `between ${min} and ${max}`;
    errors.push(`${field} must be ${range}, got ${value}`);
    return false;
  }
  return true;
}
