import { describe, expect, it } from 'vitest';
import { EventFeed } from './event-feed.js';
import type { EventFeedRepository } from './event-feed-repository.js';
import type { EventFilter, UpgradeStateEvent } from './upgrade-state-event.js';

function event(id: number, jobId = 1): UpgradeStateEvent {
  return {
    id,
    type: 'upgrade.state',
    jobId,
    upgradeId: id,
    deviceId: 1,
    deviceName: 'dev-1',
    productKey: 'pk',
    fromState: null,
    toState: 'queued',
    phase: null,
    percent: null,
    errorCode: null,
    message: null,
    at: id,
  };
}

/** A feed in memory: `events` are committed, `settled` is how far readers may go. */
class MemoryFeed implements EventFeedRepository {
  events: UpgradeStateEvent[] = [];
  settled = 0;
  settledCalls = 0;
  async settledId() {
    this.settledCalls++;
    return this.settled;
  }
  async currentId() {
    return this.settled;
  }
  async between(after: number, upTo: number, limit: number, filter: EventFilter = {}) {
    return this.events
      .filter((e) => e.id > after && e.id <= upTo)
      .filter((e) => filter.jobId === undefined || e.jobId === filter.jobId)
      .slice(0, limit);
  }
}

describe('event feed', () => {
  it('reads only up to the settled id', async () => {
    const repo = new MemoryFeed();
    repo.events = [event(1), event(2), event(3)];
    repo.settled = 2;
    const feed = new EventFeed(repo, { pollMs: 0, heartbeatMs: 1000 });
    expect(await feed.read(0)).toEqual({ events: [event(1), event(2)], cursor: 2 });
  });

  it('moves the cursor past events of other jobs, and stops at a full batch', async () => {
    const repo = new MemoryFeed();
    repo.events = [event(1, 2), event(2, 1), event(3, 2), event(4, 2)];
    repo.settled = 4;
    const feed = new EventFeed(repo, { pollMs: 0, heartbeatMs: 1000, batchSize: 2 });
    expect(await feed.read(0, { jobId: 1 })).toEqual({ events: [event(2, 1)], cursor: 4 });
    expect(await feed.read(0)).toEqual({ events: [event(1, 2), event(2, 1)], cursor: 2 });
  });

  it('shares one settled-id query between readers of the same moment', async () => {
    const repo = new MemoryFeed();
    const feed = new EventFeed(repo, { pollMs: 60_000, heartbeatMs: 1000 });
    await Promise.all([feed.read(0), feed.read(0), feed.read(1)]);
    await feed.read(0);
    expect(repo.settledCalls).toBe(1);
  });

  it('follows new events in order, sends heartbeats when quiet, and stops on abort', async () => {
    const repo = new MemoryFeed();
    repo.events = [event(1), event(2)];
    repo.settled = 2;
    const feed = new EventFeed(repo, { pollMs: 1, heartbeatMs: 0 });
    const stop = new AbortController();
    const seen: number[][] = [];
    for await (const batch of feed.follow(1, {}, stop.signal)) {
      seen.push(batch.map((e) => e.id));
      if (seen.length === 1) {
        repo.events.push(event(3));
        repo.settled = 3;
      }
      if (seen.length === 4) stop.abort();
    }
    // Event 3 arrives within a poll or two; empty batches are the heartbeats in between.
    const ids = seen.flat();
    expect(ids).toEqual([2, 3]);
    expect(seen.some((b) => b.length === 0)).toBe(true);
    expect(seen).toHaveLength(4);
  });
});
