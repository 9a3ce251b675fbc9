import type { AbortRule, RetryPolicy } from './strategy.js';
import { ACTIVE_UPGRADE_STATES, type UpgradeState } from './upgrade-state.js';

/** How many upgrades are in each state (a `GROUP BY state`); a missing state counts as 0. */
export type UpgradeCounts = Readonly<Partial<Record<UpgradeState, number>>>;

/** Sums the counts of the given states. */
export function countIn(counts: UpgradeCounts, states: readonly UpgradeState[]): number {
  return states.reduce((sum, state) => sum + (counts[state] ?? 0), 0);
}

/**
 * Whether a job must abort: failed + timed out is strictly above `failurePercent` of the finished
 * devices (succeeded + failed + timed out; cancelled ones prove nothing), once at least `minFinished`
 * have finished. Pass counts of upgrades out of retries if failures awaiting a retry should not count.
 */
export function shouldAbort(counts: UpgradeCounts, rule: AbortRule | undefined): boolean {
  if (!rule) return false;
  const failures = countIn(counts, ['failed', 'timed_out']);
  const finished = failures + (counts.succeeded ?? 0);
  // Cross-multiplied: no float rounding at the boundary.
  return finished >= rule.minFinished && failures * 100 > rule.failurePercent * finished;
}

/**
 * Whether the group after this one may start: at least `successThreshold` percent of this group's
 * devices (all of them, whatever their state) succeeded. An empty group holds nothing back.
 */
export function nextGroupMayStart(groupCounts: UpgradeCounts, successThreshold: number): boolean {
  const total = Object.values(groupCounts).reduce((sum, n) => sum + (n ?? 0), 0);
  return (groupCounts.succeeded ?? 0) * 100 >= successThreshold * total;
}

export interface DispatchLimits {
  /** The strategy's limit; absent means none. */
  readonly maxPerMinute?: number | undefined;
  /** The strategy's limit; absent means none. */
  readonly maxInFlight?: number | undefined;
  /** Upgrades of the job now in `IN_FLIGHT_UPGRADE_STATES`. */
  readonly inFlight: number;
  /** Upgrades of the job dispatched (queued → notified) in the last 60 seconds. */
  readonly dispatchedInLastMinute: number;
}

/**
 * How many queued devices may be dispatched now: the room left under both limits, never negative.
 * `Infinity` when neither limit is set, so cap it with the tick's batch size.
 */
export function dispatchBudget(limits: DispatchLimits): number {
  const { maxPerMinute, maxInFlight, inFlight, dispatchedInLastMinute } = limits;
  const byRate =
    maxPerMinute === undefined ? Number.POSITIVE_INFINITY : maxPerMinute - dispatchedInLastMinute;
  const byFlight = maxInFlight === undefined ? Number.POSITIVE_INFINITY : maxInFlight - inFlight;
  return Math.max(0, Math.min(byRate, byFlight));
}

/** An upgrade as `retryDue` sees it. */
export interface RetryCandidate {
  readonly state: UpgradeState;
  /** Retries already made for this device in this job (0 after the first attempt failed). */
  readonly retriesUsed: number;
  /** When it failed or timed out, epoch ms. */
  readonly finishedAt: number;
}

/** `due`: re-queue it now. `wait`: not before `at` (epoch ms). `never`: not retryable, or out of retries. */
export type RetryVerdict =
  | { readonly retry: 'due' }
  | { readonly retry: 'wait'; readonly at: number }
  | { readonly retry: 'never' };

/** Whether a failed or timed-out upgrade should be retried now (`transitionUpgrade(..., { type: 'retry' })`). */
export function retryDue(upgrade: RetryCandidate, policy: RetryPolicy, now: number): RetryVerdict {
  const retryable = upgrade.state === 'failed' || upgrade.state === 'timed_out';
  if (!retryable || upgrade.retriesUsed >= policy.count) return { retry: 'never' };
  const at = upgrade.finishedAt + policy.delaySeconds * 1000;
  return now >= at ? { retry: 'due' } : { retry: 'wait', at };
}

/**
 * Whether an in-flight upgrade has gone `timeoutSeconds` without activity (dispatch or applied
 * progress). Exactly at the limit counts as timed out. Times are epoch ms.
 */
export function isTimedOut(lastActivityAt: number, timeoutSeconds: number, now: number): boolean {
  return now - lastActivityAt >= timeoutSeconds * 1000;
}

/**
 * Whether a job has nothing left to do: no upgrade is active and no failed one waits for a retry
 * (`retriesPending`, the upgrades `retryDue` answers `due` or `wait` for). A dynamic job, which picks
 * up devices until its end time, should not be completed on this alone.
 */
export function jobIsFinished(counts: UpgradeCounts, retriesPending = 0): boolean {
  return countIn(counts, ACTIVE_UPGRADE_STATES) === 0 && retriesPending === 0;
}
