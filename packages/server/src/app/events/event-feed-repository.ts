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
  /** Events with `afterId < id ≤ upToId` matching the filter, oldest first, at most `limit`. */
  between(afterId: number, upToId: number, limit: number, filter?: EventFilter): Promise<UpgradeStateEvent[]>;
}
