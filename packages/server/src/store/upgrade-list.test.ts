import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JOB_TABS } from '../app/jobs/job-monitor.js';
import type { UpgradeListPage, UpgradePage } from '../app/ports/job-repository.js';
import type { UpgradeState } from '../domain/index.js';
import { type StoreFactory, storeFactories } from '../testing/test-stores.js';
import type { Store } from './database.js';
import { seedEventFixture } from './testing/upgrade-event-fixture.js';
import { UpgradeStore } from './upgrade-store.js';

const STATES: UpgradeState[] = [
  'queued',
  'failed',
  'succeeded',
  'downloading',
  'timed_out',
  'notified',
  'succeeded',
  'installing',
  'cancelled',
];
const FINISHED: UpgradeState[] = ['succeeded', 'failed', 'cancelled'];
const TABS: [string, readonly string[] | undefined][] = [...Object.entries(JOB_TABS), ['all', undefined]];
/** dev-1 and dev-10…dev-19: spread over the job and over its states. */
const SEARCH = 'dev-1';

/** Pages through a job's device tab with `list`, one request after another, and returns every page. */
async function walk(
  upgrades: UpgradeStore,
  jobId: number,
  states: readonly string[] | undefined,
  next: (previous: UpgradeListPage | undefined, limit: number) => UpgradePage | undefined,
  limit: number,
  search?: string,
): Promise<UpgradeListPage[]> {
  const pages: UpgradeListPage[] = [];
  for (let page = next(undefined, limit); page; page = next(pages.at(-1), limit)) {
    pages.push(await upgrades.list(jobId, states, page, search));
    if (pages.length > 100) throw new Error('the walk does not end');
  }
  return pages;
}

const byAfter = (previous: UpgradeListPage | undefined, limit: number): UpgradePage | undefined =>
  !previous
    ? { limit, after: 0 }
    : previous.nextAfter === null
      ? undefined
      : { limit, after: previous.nextAfter };

function byOffset(): (previous: UpgradeListPage | undefined, limit: number) => UpgradePage | undefined {
  let offset = 0;
  return (previous, limit) => {
    if (!previous) return { limit, offset };
    if (previous.nextAfter === null) return undefined;
    offset += limit;
    return { limit, offset };
  };
}

describe.each(storeFactories())('device tab pages on $name', (factory: StoreFactory) => {
  let store: Store & { drop(): Promise<void> };
  let upgrades: UpgradeStore;
  let jobId: number;
  /** The job's upgrades as [id, state, device name], in id order: what every walk must give. */
  let rows: { id: number; state: string; name: string }[];
  /** Another job's upgrades, their ids between this job's. */
  let otherIds: number[];

  beforeEach(async () => {
    if (!factory.available) return;
    store = await factory.open();
    upgrades = new UpgradeStore(store.db, store.dialect);
    const fx = await seedEventFixture(store.db, { devices: 40, jobs: 2 });
    const [job, other] = fx.jobIds as [number, number];
    jobId = job;
    rows = [];
    otherIds = [];
    for (const [i, deviceId] of fx.deviceIds.entries()) {
      const state = STATES[(i * 7) % STATES.length]!;
      rows.push({ id: await fx.addUpgrade(job, deviceId, state), state, name: `dev-${i + 1}` });
      // Another job's upgrades between this one's: a tab's ids are not one run of ids.
      if (i % 3 === 0) otherIds.push(await fx.addUpgrade(other, deviceId, FINISHED[i % FINISHED.length]));
    }
  });
  afterEach(async () => {
    if (factory.available) await store.drop();
  });

  it.skipIf(!factory.available)(
    'walks every tab by `after` to each row once, in id order, as the offset walk does',
    async () => {
      for (const [tab, states] of TABS) {
        for (const search of [undefined, SEARCH]) {
          const expected = rows
            .filter((r) => (!states || states.includes(r.state)) && (!search || r.name.includes(search)))
            .map((r) => r.id);
          for (const limit of [1, 3, 50]) {
            const where = `${tab} tab, search ${search}, limit ${limit}`;
            const pages = await walk(upgrades, jobId, states, byAfter, limit, search);
            expect(
              pages.flatMap((p) => p.items.map((u) => u.id)),
              where,
            ).toEqual(expected);
            for (const page of pages) expect(page.total, where).toBe(expected.length);
            // Each page names its last row as the next page's start; only the last page names none.
            expect(
              pages.map((p) => p.nextAfter),
              where,
            ).toEqual(pages.map((p, i) => (i < pages.length - 1 ? p.items.at(-1)!.id : null)));
            expect(pages.length, where).toBe(Math.max(1, Math.ceil(expected.length / limit)));

            // The same pages by offset, cursors included.
            expect(await walk(upgrades, jobId, states, byOffset(), limit, search), where).toEqual(pages);
          }
        }
      }
      // The walks saw something: every state has rows, and the search picks some of them.
      expect(rows.filter((r) => r.name.includes(SEARCH)).length).toBe(11);
      expect(new Set(rows.map((r) => r.state)).size).toBe(8);
    },
  );

  it.skipIf(!factory.available)(
    'starts after any id: one of another tab, another job or past the end',
    async () => {
      const failed: readonly string[] = JOB_TABS.failed;
      const inFailedTab = rows.filter((r) => failed.includes(r.state)).map((r) => r.id);
      const succeeded = rows.find((r) => r.state === 'succeeded' && r.id > inFailedTab[0]!)!.id;
      const otherJobs = otherIds.find((id) => id > inFailedTab[1]!)!;
      for (const after of [succeeded, otherJobs]) {
        const page = await upgrades.list(jobId, failed, { limit: 2, after });
        expect(page.items.map((u) => u.id)).toEqual(inFailedTab.filter((id) => id > after).slice(0, 2));
        expect(page.total).toBe(inFailedTab.length);
      }

      const last = rows.at(-1)!.id;
      const past = await upgrades.list(jobId, undefined, { limit: 5, after: last });
      expect(past).toEqual({ items: [], total: rows.length, nextAfter: null });
      const searched = await upgrades.list(jobId, undefined, { limit: 5, after: last }, SEARCH);
      expect(searched).toEqual({ items: [], total: 11, nextAfter: null });
    },
  );

  it.skipIf(!factory.available)('gives each row its device name and state', async () => {
    const page = await upgrades.list(jobId, undefined, { limit: 3, after: rows[0]!.id });
    expect(page.items.map((u) => [u.id, u.state, u.deviceName, u.jobId])).toEqual(
      rows.slice(1, 4).map((r) => [r.id, r.state, r.name, jobId]),
    );
    expect(page.nextAfter).toBe(rows[3]!.id);
  });
});
