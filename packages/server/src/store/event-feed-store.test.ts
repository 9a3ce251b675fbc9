import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type StoreFactory, storeFactories } from '../testing/test-stores.js';
import type { Store } from './database.js';
import { EventFeedStore } from './event-feed-store.js';
import { type EventFixture, seedEventFixture } from './testing/upgrade-event-fixture.js';
import { UpgradeStore } from './upgrade-store.js';

describe.each(storeFactories())('event feed on $name', (factory: StoreFactory) => {
  let store: Store & { drop(): Promise<void> };
  let feed: EventFeedStore;
  let fx: EventFixture;

  beforeEach(async () => {
    if (!factory.available) return;
    store = await factory.open();
    feed = new EventFeedStore(store.db, store.dialect);
    fx = await seedEventFixture(store.db);
  });
  afterEach(async () => {
    if (factory.available) await store.drop();
  });

  it.skipIf(!factory.available)('starts at 0 and follows the highest committed id', async () => {
    expect(await feed.settledId()).toBe(0);
    expect(await feed.currentId()).toBe(0);
    const [d1] = fx.deviceIds;
    const [j1] = fx.jobIds;
    await fx.addEvent({ jobId: j1!, deviceId: d1!, to: 'queued' });
    const last = await fx.addEvent({ jobId: j1!, deviceId: d1!, from: 'queued', to: 'notified' });
    // Other transactions in the database may hold the shared settled id back for a moment; the current one waits.
    expect(await feed.currentId()).toBe(last);
    expect(await feed.settledId()).toBe(last);
  });

  it.skipIf(!factory.available)(
    'reads what UpgradeStore records, with device name and product, oldest first',
    async () => {
      const upgrades = new UpgradeStore(store.db, store.dialect);
      const [j1] = fx.jobIds;
      const upgradeId = await fx.addUpgrade(j1!, fx.deviceIds[0]!);
      await store.db.updateTable('devices').set({ online: 1 }).execute();
      expect(await upgrades.claimForDispatch(j1!, 0, 10, 1000)).toHaveLength(1);
      await upgrades.apply(
        upgradeId,
        {
          expect: { state: 'notified', phase: null, percent: null },
          state: 'cancelled',
          phase: null,
          percent: null,
          message: 'operator cancelled',
        },
        3000,
      );
      const events = await feed.between(0, await feed.currentId(), 10);
      expect(events).toEqual([
        {
          id: expect.any(Number),
          type: 'upgrade.state',
          jobId: j1,
          upgradeId,
          deviceId: fx.deviceIds[0],
          deviceName: 'dev-1',
          productKey: 'pk1',
          fromState: 'queued',
          toState: 'notified',
          phase: null,
          percent: null,
          errorCode: null,
          message: null,
          at: 1000,
        },
        expect.objectContaining({
          fromState: 'notified',
          toState: 'cancelled',
          message: 'operator cancelled',
          at: 3000,
        }),
      ]);
      expect(events[1]!.id).toBeGreaterThan(events[0]!.id);
    },
  );

  it.skipIf(!factory.available)('filters by job and target state within the bounds', async () => {
    const [d1, d2] = fx.deviceIds;
    const [j1, j2] = fx.jobIds;
    const ids = [
      await fx.addEvent({ jobId: j1!, deviceId: d1!, to: 'queued' }),
      await fx.addEvent({ jobId: j2!, deviceId: d2!, to: 'queued' }),
      await fx.addEvent({ jobId: j1!, deviceId: d1!, from: 'queued', to: 'notified' }),
      await fx.addEvent({ jobId: j1!, deviceId: d1!, from: 'notified', to: 'succeeded' }),
    ];
    const of = async (after: number, upTo: number, filter = {}) =>
      (await feed.between(after, upTo, 10, filter)).map((e) => e.id);
    expect(await of(0, ids[3]!, { jobId: j1 })).toEqual([ids[0], ids[2], ids[3]]);
    expect(await of(0, ids[3]!, { states: ['queued', 'succeeded'] })).toEqual([ids[0], ids[1], ids[3]]);
    expect(await of(ids[0]!, ids[2]!)).toEqual([ids[1], ids[2]]);
    expect(await feed.between(0, ids[3]!, 2)).toHaveLength(2);
  });

  it.skipIf(!factory.available)(
    'keeps the name null and the job’s product when the device is gone',
    async () => {
      const [d1] = fx.deviceIds;
      const [j1] = fx.jobIds;
      const id = await fx.addEvent({ jobId: j1!, deviceId: d1!, to: 'queued' });
      await store.db.deleteFrom('devices').where('id', '=', d1!).execute();
      expect(await feed.between(0, id, 10)).toMatchObject([{ deviceName: null, productKey: 'pk1' }]);
    },
  );
});

const postgres = storeFactories().find((f) => f.name === 'postgres')!;

describe.skipIf(!postgres.available)(
  'event feed on postgres with transactions committing out of order',
  () => {
    let store: Store & { drop(): Promise<void> };
    let fx: EventFixture;

    beforeEach(async () => {
      store = await postgres.open();
      fx = await seedEventFixture(store.db);
    });
    afterEach(async () => {
      await store.drop();
    });

    it('does not settle past an event whose transaction is still open', async () => {
      const feed = new EventFeedStore(store.db, store.dialect);
      const [d1, d2] = fx.deviceIds;
      const [j1] = fx.jobIds;
      const before = await fx.addEvent({ jobId: j1!, deviceId: d1!, to: 'queued' });
      expect(await feed.currentId()).toBe(before);

      let release!: () => void;
      const held = new Promise<void>((r) => {
        release = r;
      });
      let slowId = 0;
      let markInserted!: () => void;
      const inserted = new Promise<void>((r) => {
        markInserted = r;
      });
      // Like UpgradeStore.apply: write the upgrade row (takes the xid), then the event (takes the id), then wait.
      const slow = store.db.transaction().execute(async (trx) => {
        await trx.updateTable('devices').set({ online: 1 }).where('id', '=', d1!).execute();
        const row = await trx
          .insertInto('upgrade_events')
          .values({ upgrade_id: 1, job_id: j1!, device_id: d1!, to_state: 'notified', at: 1 })
          .returning('id')
          .executeTakeFirstOrThrow();
        slowId = Number(row.id);
        markInserted();
        await held;
      });
      await inserted;
      const fast = await fx.addEvent({ jobId: j1!, deviceId: d2!, to: 'queued' });
      expect(fast).toBeGreaterThan(slowId);

      // The faster event is committed and visible, but the slower id below it may still appear: stay before it.
      expect(await feed.settledId()).toBeLessThan(slowId);
      expect(await feed.settledId()).toBeLessThan(slowId);

      // A follower starting "now" waits for the open transaction: it neither starts past its event nor before `fast`.
      const current = feed.currentId();
      await new Promise((r) => setTimeout(r, 50));
      release();
      expect(await current).toBe(fast);
      await slow;
      expect(await feed.settledId()).toBe(fast);
      expect((await feed.between(before, fast, 10)).map((e) => e.id)).toEqual([slowId, fast]);
    });
  },
);
