import {
  transitionUpgrade,
  type UpgradeEvent,
  type UpgradePhase,
  type UpgradeSnapshot,
  type UpgradeState,
} from '../../domain/index.js';
import type { Job, Upgrade, UpgradeChange } from '../ports/job-repository.js';

/** The state machine's view of a stored upgrade. */
export function snapshotOf(upgrade: Pick<Upgrade, 'state' | 'phase' | 'percent'>): UpgradeSnapshot {
  return {
    state: upgrade.state,
    progress:
      upgrade.phase !== null && upgrade.percent !== null
        ? { phase: upgrade.phase as UpgradePhase, percent: upgrade.percent }
        : undefined,
  };
}

/**
 * Runs an event through the upgrade state machine and turns an applied transition into a compare-and-set change
 * (with the retry time when the job retries failures). Undefined when the event changes nothing.
 */
export function changeFor(
  upgrade: Upgrade,
  job: Job,
  event: UpgradeEvent,
  now: number,
): UpgradeChange | undefined {
  const result = transitionUpgrade(snapshotOf(upgrade), event);
  if (result.outcome !== 'applied') return undefined;
  const next = result.next;
  const change: UpgradeChange = {
    expect: { state: upgrade.state, phase: upgrade.phase, percent: upgrade.percent },
    state: next.state,
    phase: next.progress?.phase ?? null,
    percent: next.progress?.percent ?? null,
  };
  if (result.failure) {
    change.errorCode = result.failure.error;
    change.errorMessage = result.failure.message ?? null;
  }
  if (next.state === 'failed' || next.state === 'timed_out') {
    const retriesLeft = upgrade.attempt - 1 < job.strategy.retries.count;
    change.retryAt = retriesLeft ? now + job.strategy.retries.delaySeconds * 1000 : null;
    if (next.state === 'timed_out') {
      change.errorCode = 'timeout';
      change.errorMessage = `no progress for ${job.strategy.deviceTimeoutSeconds} s`;
    }
  }
  if (event.type === 'retry') {
    change.attempt = upgrade.attempt + 1;
    change.retryAt = null;
    change.errorCode = null;
    change.errorMessage = null;
  }
  if (event.type === 'dispatched') change.notifiedAt = now;
  return change;
}

/** Versions that mean "not upgraded yet" for one upgrade: what the device ran when selected, and the job's sources. */
export function sourceVersionsOf(upgrade: Upgrade, job: Job): string[] {
  return upgrade.sourceVersion ? [upgrade.sourceVersion, ...job.sourceVersions] : [...job.sourceVersions];
}

export const IN_FLIGHT_STATES: readonly UpgradeState[] = ['notified', 'downloading', 'installing'];
