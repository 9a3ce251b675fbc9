import { setTimeout as sleep } from 'node:timers/promises';
import type { EventFeedRepository } from './event-feed-repository.js';
import type { EventFilter, UpgradeStateEvent } from './upgrade-state-event.js';

export interface EventFeedOptions {
  /** How often a follower looks for new events. */
  pollMs: number;
  /** A follower yields an empty batch after this long without events (the transport sends a keep-alive). */
  heartbeatMs: number;
  /** Most events per read. */
  batchSize?: number;
}

/**
 * Reading and following the upgrade event feed. The feed is the `upgrade_events` table, so every server instance
 * and every restart sees the same events in the same order; a follower's position is just the last id it saw.
 */
export class EventFeed {
  private settled: { value: number; at: number } | undefined;
  private settling: Promise<number> | undefined;
  readonly batchSize: number;

  constructor(
    private readonly repository: EventFeedRepository,
    private readonly options: EventFeedOptions,
  ) {
    this.batchSize = options.batchSize ?? 500;
  }

  /** Where a follower starts to see only events from now on (not shared: it must be as of this call). */
  latestId(): Promise<number> {
    return this.repository.currentId();
  }

  /**
   * Up to `limit` events after `afterId` that are final, and how far the caller may move its cursor (past the
   * last event, or up to the settled id when nothing more matches the filter).
   */
  async read(
    afterId: number,
    filter: EventFilter = {},
    limit = this.batchSize,
  ): Promise<{ events: UpgradeStateEvent[]; cursor: number }> {
    const settled = await this.settledId();
    if (settled <= afterId) return { events: [], cursor: afterId };
    const events = await this.repository.between(afterId, settled, limit, filter);
    const last = events.at(-1);
    return { events, cursor: events.length === limit && last ? last.id : settled };
  }

  /**
   * Follows the feed from `afterId`: yields each batch of new events in order, and an empty batch after
   * `heartbeatMs` of quiet, until `signal` aborts.
   */
  async *follow(
    afterId: number,
    filter: EventFilter,
    signal: AbortSignal,
  ): AsyncGenerator<UpgradeStateEvent[], void, undefined> {
    let cursor = afterId;
    let quietSince = performance.now();
    while (!signal.aborted) {
      const { events, cursor: next } = await this.read(cursor, filter);
      cursor = next;
      if (signal.aborted) return;
      if (events.length) {
        quietSince = performance.now();
        yield events;
        // A full batch: there is more already, read it without waiting.
        if (events.length === this.batchSize) continue;
      } else if (performance.now() - quietSince >= this.options.heartbeatMs) {
        quietSince = performance.now();
        yield [];
      }
      await sleep(this.options.pollMs, undefined, { signal }).catch(() => undefined);
    }
  }

  /**
   * The settled id, shared by every follower of this process for a fraction of the poll interval, so a hundred open
   * streams cost one query per poll, not a hundred.
   */
  private async settledId(): Promise<number> {
    const now = performance.now();
    if (this.settled && now - this.settled.at < this.options.pollMs / 2) return this.settled.value;
    this.settling ??= this.repository.settledId().then(
      (value) => {
        this.settled = { value, at: performance.now() };
        this.settling = undefined;
        return value;
      },
      (error: unknown) => {
        this.settling = undefined;
        throw error;
      },
    );
    return this.settling;
  }
}
