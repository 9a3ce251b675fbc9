import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type StoreFactory, storeFactories } from '../testing/test-stores.js';
import type { Store } from './database.js';
import { type EventFixture, seedEventFixture } from './testing/upgrade-event-fixture.js';
import { UpgradeStore } from './upgrade-store.js';

const NOW = 1_700_000_000_000;

/** The write paths two server instances race on, against SQLite and a real PostgreSQL. */
describe.each(storeFactories())('upgrade store writes on $name', (factory: StoreFactory) => {
  let store: Store & { drop(): Promise<void> };
  let upgrades: UpgradeStore;
  let fx: EventFixture;
  let job1: number;
  let job2: number;
  const job = (id: number, supersede = false) => ({ id, module: 'default', targetVersion: '2.0', supersede });
  const seeds = (deviceIds: number[]) =>
    deviceIds.map((deviceId) => ({ deviceId, sourceVersion: '1.0', groupIndex: 0 }));
  const jobRow = (id: number) =>
    store.db
      .selectFrom('jobs')
      .select(['selected', 'skipped', 'conflicts', 'enrolled_until'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();

  beforeEach(async () => {
    if (!factory.available) return;
    store = await factory.open();
    upgrades = new UpgradeStore(store.db, store.dialect);
    fx = await seedEventFixture(store.db, { devices: 6, jobs: 2 });
    [job1, job2] = fx.jobIds as [number, number];
  });
  afterEach(async () => {
    if (factory.available) await store.drop();
  });

  it.skipIf(!factory.available)(
    'enrols one pass atomically, and a repeated pass writes nothing',
    async () => {
      const pass = { from: 0, until: NOW, seeds: seeds(fx.deviceIds.slice(0, 3)), skipped: 2 };
      expect(await upgrades.enrol(job(job1), pass, NOW)).toEqual({ created: 3, conflicts: 0 });
      expect(await jobRow(job1)).toMatchObject({ selected: 3, skipped: 2, conflicts: 0 });
      expect(Number((await jobRow(job1)).enrolled_until)).toBe(NOW);
      // The same pass again (a second instance, or a rerun) finds enrolled_until moved.
      expect(await upgrades.enrol(job(job1), pass, NOW)).toBeUndefined();
      expect(await jobRow(job1)).toMatchObject({ selected: 3, skipped: 2, conflicts: 0 });
      expect(await upgrades.counts(job1)).toEqual({ queued: 3 });
    },
  );

  it.skipIf(!factory.available)('counts a pass run by two instances at once only once', async () => {
    const pass = { from: 0, until: NOW, seeds: seeds(fx.deviceIds), skipped: 1 };
    const results = await Promise.all([
      upgrades.enrol(job(job1), pass, NOW),
      upgrades.enrol(job(job1), pass, NOW),
    ]);
    expect(results.filter((r) => r === undefined)).toHaveLength(1);
    expect(await jobRow(job1)).toMatchObject({ selected: 6, skipped: 1, conflicts: 0 });
  });

  it.skipIf(!factory.available)(
    'leaves out devices busy in another job, counting them unless told not to, or supersedes them',
    async () => {
      const [d1, d2, d3] = fx.deviceIds as [number, number, number];
      await upgrades.enrol(job(job1), { from: 0, until: NOW, seeds: seeds([d1, d2, d3]), skipped: 0 }, NOW);
      const busy = [
        ...seeds([d1]),
        { deviceId: d2, sourceVersion: '1.0', groupIndex: 0, countConflict: false },
      ];
      expect(await upgrades.enrol(job(job2), { from: 0, until: NOW, seeds: busy, skipped: 0 }, NOW)).toEqual({
        created: 0,
        conflicts: 1,
      });
      const superseding = { from: NOW, until: NOW + 1, seeds: seeds([d3]), skipped: 0 };
      expect(await upgrades.enrol(job(job2, true), superseding, NOW + 1)).toEqual({
        created: 1,
        conflicts: 0,
      });
      expect(await upgrades.counts(job1)).toEqual({ queued: 2, cancelled: 1 });
      expect(await jobRow(job2)).toMatchObject({ selected: 1, conflicts: 1 });
    },
  );

  it.skipIf(!factory.available)('keeps claims made at once within maxInFlight', async () => {
    await store.db.updateTable('devices').set({ online: 1 }).execute();
    await upgrades.enrol(job(job1), { from: 0, until: NOW, seeds: seeds(fx.deviceIds), skipped: 0 }, NOW);
    const claims = await Promise.all(
      [0, 1, 2].map(() => upgrades.claimForDispatch(job1, 0, 100, NOW, { maxInFlight: 2 })),
    );
    expect(claims.flat()).toHaveLength(2);
    expect(new Set(claims.flat().map((u) => u.id)).size).toBe(2);
    // Without limits, the rest goes at once.
    expect(await upgrades.claimForDispatch(job1, 0, 100, NOW)).toHaveLength(4);
  });

  it.skipIf(!factory.available)('keeps claims within maxPerMinute, counting the last minute', async () => {
    await store.db.updateTable('devices').set({ online: 1 }).execute();
    await upgrades.enrol(job(job1), { from: 0, until: NOW, seeds: seeds(fx.deviceIds), skipped: 0 }, NOW);
    const limits = { maxPerMinute: 4 };
    expect(await upgrades.claimForDispatch(job1, 0, 3, NOW, limits)).toHaveLength(3);
    expect(await upgrades.claimForDispatch(job1, 0, 100, NOW + 30_000, limits)).toHaveLength(1);
    expect(await upgrades.claimForDispatch(job1, 0, 100, NOW + 59_999, limits)).toHaveLength(0);
    expect(await upgrades.claimForDispatch(job1, 0, 100, NOW + 60_001, limits)).toHaveLength(2);
  });

  it.skipIf(!factory.available)('records a source version only while none is known', async () => {
    const id = await fx.addUpgrade(job1, fx.deviceIds[0]!);
    expect(await upgrades.adoptSourceVersion(id, '1.0.3')).toBe(true);
    expect(await upgrades.adoptSourceVersion(id, '9.9')).toBe(false);
    expect((await upgrades.get(id))?.sourceVersion).toBe('1.0.3');
  });
});
