import type { UpgradeEvent } from '../../domain/index.js';
import type { Job, UpgradeChange, UpgradeMove, UpgradeWithDevice } from '../ports/job-repository.js';

/** One upgrade's changes decided during a batch, with the events they came from (to decide again after a lost race). */
export interface PendingMove {
  upgrade: UpgradeWithDevice;
  job: Job;
  steps: { change: UpgradeChange; at: number }[];
  events: { event: UpgradeEvent; at: number }[];
}

/**
 * The upgrade changes an ingest batch decided, gathered so they are written in one transaction. Each change is
 * also applied to the in-batch copy of the upgrade, so the batch's next event for the device is decided on the
 * state this one leaves.
 */
export class PendingMoves {
  private moves = new Map<number, PendingMove>();

  add(upgrade: UpgradeWithDevice, job: Job, event: UpgradeEvent, change: UpgradeChange, at: number): void {
    let move = this.moves.get(upgrade.id);
    if (!move) {
      move = { upgrade, job, steps: [], events: [] };
      this.moves.set(upgrade.id, move);
    }
    move.steps.push({ change, at });
    move.events.push({ event, at });
    applyToCopy(upgrade, change);
  }

  /** Hands over what was gathered and starts empty. */
  take(): PendingMove[] {
    const moves = [...this.moves.values()];
    this.moves = new Map();
    return moves;
  }
}

export function toUpgradeMove(move: PendingMove): UpgradeMove {
  return { id: move.upgrade.id, steps: move.steps };
}

/** Brings an in-memory upgrade to the state a change leaves it in. */
export function applyToCopy(upgrade: UpgradeWithDevice, change: UpgradeChange): void {
  upgrade.state = change.state;
  upgrade.phase = change.phase;
  upgrade.percent = change.percent;
  if (change.attempt !== undefined) upgrade.attempt = change.attempt;
}
