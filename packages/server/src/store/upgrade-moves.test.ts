import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { UpgradeChange } from '../app/ports/job-repository.js';
import type { UpgradeState } from '../domain/index.js';
import { eventually } from '../testing/test-server.js';
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
/** Round n of a progress race: from notified, alternately downloading and installing, so every round moves counts. */
const stage = (n: number): Row =>
  n === 0 ? NOTIFIED : { state: n % 2 ? 'downloading' : 'installing', phase: 'transfer', percent: n };

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

  it.skipIf(!factory.available)(
    'lets two writers of overlapping batches in opposite id orders both finish, each upgrade moved once a round',
    async () => {
      const fleet = await seedEventFixture(store.db, { productKey: 'pk2', devices: 120, jobs: 2 });
      const fleetIds: number[] = [];
      for (const [i, deviceId] of fleet.deviceIds.entries())
        fleetIds.push(await fleet.addUpgrade(fleet.jobIds[i % 2]!, deviceId, 'notified'));
      const rounds = 30;
      for (let round = 0; round < rounds; round++) {
        const move = (id: number) => ({
          id,
          steps: [{ change: step(stage(round), stage(round + 1)), at: NOW + round }],
        });
        // Whichever wins each upgrade, and in whatever order they lock rows, neither fails (no deadlock escapes).
        const [up, down] = await Promise.all([
          upgrades.applyMany(fleetIds.map(move)),
          upgrades.applyMany([...fleetIds].reverse().map(move)),
        ]);
        // Every upgrade moved by exactly one of them; the other lost its compare-and-set.
        expect([...up, ...down].sort((a, b) => a - b)).toEqual(fleetIds);
      }
      for (const jobId of fleet.jobIds) {
        expect(await upgrades.counts(jobId)).toEqual({ [stage(rounds).state]: 60 });
        const events = await store.db
          .selectFrom('upgrade_events')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('job_id', '=', jobId)
          .executeTakeFirstOrThrow();
        expect(Number(events.n)).toBe(60 * rounds);
      }
    },
  );

  if (factory.name === 'postgres') {
    /** Another transaction holding row locks on upgrades, and a way to wait until one of them is waited for. */
    const inLockingTransaction = (
      body: (locker: {
        lock(ids: number[], nowait?: boolean): Promise<void>;
        waitedFor(): Promise<void>;
      }) => Promise<void>,
    ) =>
      store.db.transaction().execute(async (trx) => {
        const { rows } = await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(trx);
        const pid = rows[0]!.pid;
        await body({
          async lock(lockIds, nowait = false) {
            await sql`SELECT id FROM upgrades WHERE id IN (${sql.join(lockIds)}) ORDER BY id FOR UPDATE ${
              nowait ? sql`NOWAIT` : sql``
            }`.execute(trx);
          },
          async waitedFor() {
            await eventually(async () => {
              const waiting = await sql<{ n: number }>`
                SELECT count(*)::int AS n FROM pg_stat_activity WHERE ${pid} = ANY(pg_blocking_pids(pid))`.execute(
                store.db,
              );
              return waiting.rows[0]!.n > 0;
            }, 'the batch to wait for the locking transaction');
          },
        });
      });
    const settled = (applying: Promise<Set<number>>) =>
      applying.then(
        (applied) => ({ applied: [...applied].sort((x, y) => x - y) }),
        (error: unknown) => ({ error }),
      );
    const toFive = (id: number) => ({ id, steps: [{ change: step(NOTIFIED, at(5)), at: NOW }] });

    it.skipIf(!factory.available)(
      'locks a batch’s rows in id order, whatever order its moves come in',
      async () => {
        // Rewritten last to first, the rows lie in the table in reverse id order: a plan locking in scan order, or in
        // the batch's order (reversed below), would take the later ids first.
        for (const id of [...ids].reverse())
          await store.db.updateTable('upgrades').set({ attempt: 1 }).where('id', '=', id).execute();
        const [first, ...later] = ids as [number, ...number[]];
        let applying: ReturnType<typeof settled> | undefined;
        await inLockingTransaction(async (locker) => {
          await locker.lock([first]);
          applying = settled(upgrades.applyMany([...ids].reverse().map(toFive)));
          await locker.waitedFor();
          // The batch waits for its first id holding none of the later ones: NOWAIT would fail on any it held.
          await locker.lock(later, true);
        });
        expect(await applying).toEqual({ applied: ids });
      },
    );

    it.skipIf(!factory.available)(
      'writes a batch again when PostgreSQL breaks a deadlock by rolling it back',
      async () => {
        const [a, b] = ids as [number, number];
        let applying: ReturnType<typeof settled> | undefined;
        await inLockingTransaction(async (locker) => {
          // The batch locks a, then waits for b; this transaction then asks for a. PostgreSQL breaks the cycle after
          // deadlock_timeout by rolling back the transaction that waited first: the batch's.
          await locker.lock([b]);
          applying = settled(upgrades.applyMany([a, b].map(toFive)));
          await locker.waitedFor();
          // Granted only once the batch's transaction has ended, and it cannot commit while it waits for b.
          await locker.lock([a]);
        });
        expect(await applying).toEqual({ applied: [a, b] });
        expect(await upgrades.counts(fx.jobIds[0]!)).toEqual({ notified: 2, downloading: 2 });
        expect(await history(a)).toHaveLength(1);
        expect(await history(b)).toHaveLength(1);
      },
    );
  }
});
