import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { UpgradeMove } from '../app/ports/job-repository.js';
import type { UpgradeState } from '../domain/index.js';
import { type StoreFactory, storeFactories } from '../testing/test-stores.js';
import type { Store } from './database.js';
import { DeviceStore } from './device-store.js';
import { type EventFixture, seedEventFixture } from './testing/upgrade-event-fixture.js';
import { UpgradeStore } from './upgrade-store.js';

const NOW = 1_700_000_000_000;
const MOVES_TO: UpgradeState[] = [
  'notified',
  'downloading',
  'installing',
  'succeeded',
  'failed',
  'cancelled',
];

/** A small deterministic PRNG (mulberry32): the same operations every run, different ones per seed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** The per-job counts kept by the writes must always equal counting the upgrades, whatever the writes were. */
describe.each(storeFactories())('job upgrade counts on $name', (factory: StoreFactory) => {
  let store: Store & { drop(): Promise<void> };
  let upgrades: UpgradeStore;
  let fx: EventFixture;

  const counted = async (jobId: number) => {
    const rows = await store.db
      .selectFrom('upgrades')
      .select(['state', (eb) => eb.fn.countAll<number>().as('n')])
      .where('job_id', '=', jobId)
      .groupBy('state')
      .execute();
    return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
  };

  beforeEach(async () => {
    if (!factory.available) return;
    store = await factory.open();
    upgrades = new UpgradeStore(store.db, store.dialect);
    fx = await seedEventFixture(store.db, { devices: 40, jobs: 3 });
    await store.db.updateTable('devices').set({ online: 1 }).execute();
  });
  afterEach(async () => {
    if (factory.available) await store.drop();
  });

  it.skipIf(!factory.available)(
    'match counting the upgrades after any mix of enrolments, moves, dispatches and deletions',
    async () => {
      const next = random(7);
      const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]!;
      const enrolledUntil = new Map(fx.jobIds.map((id) => [id, 0]));
      const devices = new DeviceStore(store.db, store.dialect);
      let alive = [...fx.deviceIds];
      for (let step = 1; step <= 60; step++) {
        const now = NOW + step;
        const jobId = pick(fx.jobIds);
        const roll = next();
        if (roll < 0.25) {
          const from = enrolledUntil.get(jobId)!;
          const seeds = alive
            .filter(() => next() < 0.4)
            .map((deviceId) => ({ deviceId, sourceVersion: '1.0', groupIndex: 0 }));
          const job = { id: jobId, module: 'default', targetVersion: '2.0', supersede: next() < 0.5 };
          await upgrades.enrol(job, { from, until: from + 1, seeds, skipped: 0 }, now);
          enrolledUntil.set(jobId, from + 1);
        } else if (roll < 0.7) {
          const rows = await store.db
            .selectFrom('upgrades')
            .selectAll()
            .where('job_id', '=', jobId)
            .where('active', '=', 1)
            .orderBy('id')
            .execute();
          const moves: UpgradeMove[] = rows
            .filter(() => next() < 0.5)
            .map((row) => {
              const stale = next() < 0.2;
              const to = pick(MOVES_TO);
              return {
                id: Number(row.id),
                steps: [
                  {
                    change: {
                      expect: {
                        state: stale ? 'installing' : (row.state as UpgradeState),
                        phase: row.phase,
                        percent: row.percent,
                      },
                      state: to,
                      phase: null,
                      percent: null,
                    },
                    at: now,
                  },
                ],
              };
            });
          await upgrades.applyMany(moves);
        } else if (roll < 0.9) {
          await upgrades.claimForDispatch(jobId, 0, 1 + Math.floor(next() * 5), now);
        } else {
          const victim = pick(alive);
          alive = alive.filter((id) => id !== victim);
          const name = await store.db
            .selectFrom('devices')
            .select('name')
            .where('id', '=', victim)
            .executeTakeFirst();
          if (name) expect(await devices.delete('pk1', name.name)).toBe(true);
        }
        for (const id of fx.jobIds) expect(await upgrades.counts(id)).toEqual(await counted(id));
      }
      const total = await sql<{ n: number }>`SELECT COUNT(*) AS n FROM upgrades`.execute(store.db);
      // The mix really exercised the counts: upgrades exist and moved through several states.
      expect(Number(total.rows[0]!.n)).toBeGreaterThan(10);
      const states = await store.db.selectFrom('upgrades').select('state').distinct().execute();
      expect(states.length).toBeGreaterThanOrEqual(4);
    },
  );

  it.skipIf(!factory.available)('give a device tab its total; a search counts its matches', async () => {
    const [job] = fx.jobIds as [number];
    const states: UpgradeState[] = ['failed', 'timed_out', 'succeeded', 'failed', 'queued', 'downloading'];
    for (const [i, state] of states.entries()) await fx.addUpgrade(job, fx.deviceIds[i]!, state);
    const failedTab = await upgrades.list(job, ['failed', 'timed_out'], { limit: 2, offset: 0 });
    expect(failedTab.total).toBe(3);
    expect(failedTab.items.map((u) => u.state)).toEqual(['failed', 'timed_out']);
    // A page deeper in the tab takes its rows from both states, in id order.
    const second = await upgrades.list(job, ['failed', 'timed_out'], { limit: 2, offset: 1 });
    expect(second.items.map((u) => [u.deviceName, u.state])).toEqual([
      ['dev-2', 'timed_out'],
      ['dev-4', 'failed'],
    ]);
    const all = await upgrades.list(job, undefined, { limit: 4, offset: 1 });
    expect(all.items.map((u) => u.deviceName)).toEqual(['dev-2', 'dev-3', 'dev-4', 'dev-5']);
    expect((await upgrades.list(job, undefined, { limit: 1, offset: 5 })).total).toBe(6);
    // dev-1 and dev-4 are failed; dev-1 matches "dev-1" and no other device of six does.
    expect((await upgrades.list(job, ['failed'], { limit: 10, offset: 0 }, 'dev-1')).total).toBe(1);
    expect((await upgrades.list(job, undefined, { limit: 10, offset: 0 }, 'dev-')).total).toBe(6);
  });
});
