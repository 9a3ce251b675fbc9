import type { EventFilter, UpgradeStateEvent } from './upgrade-state-event.js';

/**
 * The upgrade event feed as stored: rows of `upgrade_events`, read by id. Ids are handed out when a row is written,
 * but transactions may commit in another order, so a reader must only go as far as `settledId()`.
 */
export interface EventFeedRepository {
  /**
   * The highest id at or below which every event is final: no transaction still in flight can commit a lower
   * one. Never decreases. A reader that advances its cursor only up to here never skips an event.
   */
  settledId(): Promise<number>;
  /**
   * The settled id as of this call, not of an earlier look: waits briefly for the transactions in flight right now to
   * end, so every event committed before the call is at or below it. Where a follower "from now on" starts.
   */
  currentId(): Promise<number>;
  /** Events with `afterId < id ≤ upToId` matching the filter, oldest first, at most `limit`. */
  between(afterId: number, upToId: number, limit: number, filter?: EventFilter): Promise<UpgradeStateEvent[]>;
}
