import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type StoreFactory, storeFactories } from '../testing/test-stores.js';
import type { Store } from './database.js';
import { JobStore } from './job-store.js';
import { seedEventFixture } from './testing/upgrade-event-fixture.js';

describe.each(storeFactories())('job store on $name', (factory: StoreFactory) => {
  let store: Store & { drop(): Promise<void> };
  let jobs: JobStore;
  let jobIds: number[];

  beforeEach(async () => {
    if (!factory.available) return;
    store = await factory.open();
    jobs = new JobStore(store.db);
    ({ jobIds } = await seedEventFixture(store.db, { devices: 1, jobs: 3 }));
  });
  afterEach(async () => {
    if (factory.available) await store.drop();
  });

  describe.skipIf(!factory.available)('getMany', () => {
    it('reads each existing job once, as `get` reads it, and skips unknown ids', async () => {
      const [first, , third] = jobIds as [number, number, number];
      await jobs.moveState(third, ['running'], 'paused', {});
      const read = await jobs.getMany([third, 999_999, first, third]);
      expect(read.sort((a, b) => a.id - b.id)).toEqual([await jobs.get(first), await jobs.get(third)]);
      expect(read.find((job) => job.id === third)?.state).toBe('paused');
    });

    it('reads nothing from no ids', async () => {
      expect(await jobs.getMany([])).toEqual([]);
    });
  });
});
