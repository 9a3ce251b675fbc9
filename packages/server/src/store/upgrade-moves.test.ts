import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { UpgradeChange } from '../app/ports/job-repository.js';
import type { UpgradeState } from '../domain/index.js';
import { type StoreFactory, storeFactories } from '../testing/test-stores.js';
import type { Store } from './database.js';
import { type EventFixture, seedEventFixture } from './testing/upgrade-event-fixture.js';
import { UpgradeStore } from './upgrade-store.js';

const NOW = 1_700_000_000_000;

type Row = { state: UpgradeState; phase: string | null; percent: number | null };
/** A change from one stored state to the next, as the reporter decides them. */
const step = (from: Row, to: Row, extra: Partial<UpgradeChange> = {}): UpgradeChange => ({
  expect: from,
  ...to,
  ...extra,
});
const NOTIFIED: Row = { state: 'notified', phase: null, percent: null };
const at = (percent: number): Row => ({ state: 'downloading', phase: 'downloading', percent });

/** Batched upgrade writes (the ingest path), against SQLite and a real PostgreSQL. */
describe.each(storeFactories())('upgrade moves on $name', (factory: StoreFactory) => {
  let store: Store & { drop(): Promise<void> };
  let upgrades: UpgradeStore;
  let fx: EventFixture;
  let ids: number[];
  const history = (upgradeId: number) =>
    store.db
      .selectFrom('upgrade_events')
      .select(['from_state', 'to_state', 'percent', 'error_code', 'at'])
      .where('upgrade_id', '=', upgradeId)
      .orderBy('id')
      .execute();

  beforeEach(async () => {
    if (!factory.available) return;
    store = await factory.open();
    upgrades = new UpgradeStore(store.db, store.dialect);
    fx = await seedEventFixture(store.db, { devices: 4, jobs: 2 });
    ids = [];
    for (const deviceId of fx.deviceIds) ids.push(await fx.addUpgrade(fx.jobIds[0]!, deviceId, 'notified'));
  });
  afterEach(async () => {
    if (factory.available) await store.drop();
  });

  it.skipIf(!factory.available)(
    'applies each upgrade’s steps together, with a history row per step',
    async () => {
      const [a, b] = ids as [number, number];
      const applied = await upgrades.applyMany([
        {
          id: a,
          steps: [
            { change: step(NOTIFIED, at(10)), at: NOW + 1 },
            { change: step(at(10), at(50)), at: NOW + 2 },
            { change: step(at(50), { state: 'succeeded', phase: null, percent: null }), at: NOW + 3 },
          ],
        },
        {
          id: b,
          steps: [
            {
              change: step(
                NOTIFIED,
                { state: 'failed', phase: null, percent: null },
                {
                  errorCode: 'checksum',
                  errorMessage: 'md5 mismatch',
                  retryAt: NOW + 60_000,
                },
              ),
              at: NOW + 4,
            },
          ],
        },
      ]);
      expect([...applied].sort()).toEqual([a, b].sort());
      expect(await upgrades.get(a)).toMatchObject({
        state: 'succeeded',
        percent: null,
        lastActivityAt: NOW + 3,
        finishedAt: NOW + 3,
        errorCode: null,
      });
      expect(await upgrades.get(b)).toMatchObject({
        state: 'failed',
        errorCode: 'checksum',
        errorMessage: 'md5 mismatch',
        retryAt: NOW + 60_000,
        finishedAt: NOW + 4,
      });
      expect(await history(a)).toEqual([
        { from_state: 'notified', to_state: 'downloading', percent: 10, error_code: null, at: NOW + 1 },
        { from_state: 'downloading', to_state: 'downloading', percent: 50, error_code: null, at: NOW + 2 },
        { from_state: 'downloading', to_state: 'succeeded', percent: null, error_code: null, at: NOW + 3 },
      ]);
      expect(await history(b)).toEqual([
        { from_state: 'notified', to_state: 'failed', percent: null, error_code: 'checksum', at: NOW + 4 },
      ]);
      // The active flag follows the final state: the device may join another job's upgrade of the module.
      const active = await store.db.selectFrom('upgrades').select(['id', 'active']).orderBy('id').execute();
      expect(active.map((r) => Number(r.active))).toEqual([0, 0, 1, 1]);
    },
  );

  it.skipIf(!factory.available)(
    'leaves an upgrade moved since it was read untouched, and applies the rest of the batch',
    async () => {
      const [a, b] = ids as [number, number];
      expect(await upgrades.apply(a, step(NOTIFIED, at(30)), NOW)).toBe(true);
      const applied = await upgrades.applyMany([
        // Decided on a stale read of `a` (notified): its whole move is refused.
        {
          id: a,
          steps: [
            { change: step(NOTIFIED, at(20)), at: NOW + 1 },
            { change: step(at(20), at(40)), at: NOW + 2 },
          ],
        },
        { id: b, steps: [{ change: step(NOTIFIED, at(20)), at: NOW + 1 }] },
      ]);
      expect([...applied]).toEqual([b]);
      expect(await upgrades.get(a)).toMatchObject({ state: 'downloading', percent: 30, lastActivityAt: NOW });
      expect(await history(a)).toHaveLength(1);
      expect(await history(b)).toHaveLength(1);
    },
  );

  it.skipIf(!factory.available)(
    'refuses only the move that would make a second active upgrade of a module',
    async () => {
      const [a, b] = ids as [number, number];
      const failed: Row = { state: 'failed', phase: null, percent: null };
      await upgrades.applyMany([
        { id: a, steps: [{ change: step(NOTIFIED, failed), at: NOW }] },
        { id: b, steps: [{ change: step(NOTIFIED, failed), at: NOW }] },
      ]);
      // Device a joins the second job meanwhile; then both failed upgrades are retried in one batch.
      await fx.addUpgrade(fx.jobIds[1]!, fx.deviceIds[0]!);
      const retry = step(failed, { state: 'queued', phase: null, percent: null }, { attempt: 2 });
      const applied = await upgrades.applyMany([
        { id: a, steps: [{ change: retry, at: NOW + 1 }] },
        { id: b, steps: [{ change: retry, at: NOW + 1 }] },
      ]);
      expect([...applied]).toEqual([b]);
      expect(await upgrades.get(a)).toMatchObject({ state: 'failed', attempt: 1 });
      expect(await upgrades.get(b)).toMatchObject({ state: 'queued', attempt: 2, finishedAt: null });
    },
  );

  it.skipIf(!factory.available)('writes a batch larger than one statement takes', async () => {
    const many = await seedEventFixture(store.db, { productKey: 'pk2', devices: 900, jobs: 1 });
    const manyIds: number[] = [];
    for (const deviceId of many.deviceIds)
      manyIds.push(await many.addUpgrade(many.jobIds[0]!, deviceId, 'notified'));
    const applied = await upgrades.applyMany(
      manyIds.map((id, i) => ({
        id,
        steps: [
          { change: step(NOTIFIED, at(i % 100)), at: NOW },
          { change: step(at(i % 100), at(100)), at: NOW + 1 },
        ],
      })),
    );
    expect(applied.size).toBe(900);
    expect(await upgrades.counts(many.jobIds[0]!)).toEqual({ downloading: 900 });
    const events = await store.db
      .selectFrom('upgrade_events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('job_id', '=', many.jobIds[0]!)
      .executeTakeFirstOrThrow();
    expect(Number(events.n)).toBe(1800);
  });
});
