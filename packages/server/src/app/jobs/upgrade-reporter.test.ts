import type { UpgradeTask } from '@aloft/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../store/database.js';
import { FirmwareStore } from '../../store/firmware-store.js';
import { JobStore } from '../../store/job-store.js';
import { ProductStore } from '../../store/product-store.js';
import { type EventFixture, seedEventFixture } from '../../store/testing/upgrade-event-fixture.js';
import { UpgradeStore } from '../../store/upgrade-store.js';
import { type StoreFactory, storeFactories } from '../../testing/test-stores.js';
import type { JobRepository, UpgradeRepository } from '../ports/job-repository.js';
import { silentLogger } from '../ports/logger.js';
import { UpgradeReporter } from './upgrade-reporter.js';

const NOW = 1_700_000_000_000;

describe.each(storeFactories())('upgrade reporter on $name', (factory: StoreFactory) => {
  let store: Store & { drop(): Promise<void> };
  let upgrades: UpgradeStore;
  let fx: EventFixture;
  let upgradeId: number;
  let pushes: UpgradeTask[];

  const reporter = (repository: UpgradeRepository = upgrades, jobs: JobRepository = new JobStore(store.db)) =>
    new UpgradeReporter({
      jobs,
      upgrades: repository,
      firmware: new FirmwareStore(store.db),
      products: new ProductStore(store.db),
      messenger: {
        pushTask: async (_device, task) => {
          pushes.push(task);
        },
        replyTask: async () => {},
      },
      urls: { urlFor: (_firmware, now) => `https://cdn.example/fw.bin?at=${now}` },
      logger: silentLogger,
      clock: () => NOW,
    });
  const version = (v: string, at = NOW + 10) =>
    ({ kind: 'version', deviceId: fx.deviceIds[0]!, module: 'default', version: v, at }) as const;
  /** Moves the upgrade as another writer would, with compare-and-set on what it read. */
  const move = async (state: 'notified' | 'downloading', percent: number | null, at: number) => {
    const current = (await upgrades.get(upgradeId))!;
    expect(
      await upgrades.apply(
        upgradeId,
        {
          expect: { state: current.state, phase: current.phase, percent: current.percent },
          state,
          phase: percent === null ? null : 'downloading',
          percent,
        },
        at,
      ),
    ).toBe(true);
  };

  beforeEach(async () => {
    if (!factory.available) return;
    store = await factory.open();
    upgrades = new UpgradeStore(store.db, store.dialect);
    fx = await seedEventFixture(store.db, { devices: 2, jobs: 2 });
    const strategy = { deviceTimeoutSeconds: 3600, retries: { count: 0, delaySeconds: 60 } };
    await store.db
      .updateTable('jobs')
      .set({ strategy: JSON.stringify(strategy) })
      .execute();
    upgradeId = await fx.addUpgrade(fx.jobIds[0]!, fx.deviceIds[0]!);
    pushes = [];
    await move('notified', null, NOW);
  });
  afterEach(async () => {
    if (factory.available) await store.drop();
  });

  it.skipIf(!factory.available)(
    'applies a success although another writer moved the upgrade after it was read',
    async () => {
      await move('downloading', 50, NOW + 1);
      // Another instance applies the device's 100% between this batch's read and its write.
      const racing: UpgradeRepository = Object.create(upgrades, {
        activeForDevices: {
          value: async (ids: readonly number[]) => {
            const read = await upgrades.activeForDevices(ids);
            await move('downloading', 100, NOW + 2);
            return read;
          },
        },
      });
      await reporter(racing).handle([version('2.0')]);
      expect((await upgrades.get(upgradeId))?.state).toBe('succeeded');
      // A lost compare-and-set is not "still on the old version": nothing is re-pushed.
      expect(pushes).toHaveLength(0);
    },
  );

  it.skipIf(!factory.available)(
    'applies a batch of a device’s reports in one write, each a step of its history',
    async () => {
      const writes: number[] = [];
      const counting: UpgradeRepository = Object.create(upgrades, {
        applyMany: {
          value: async (moves: Parameters<UpgradeRepository['applyMany']>[0]) => {
            writes.push(moves.length);
            return upgrades.applyMany(moves);
          },
        },
        apply: {
          value: () => {
            throw new Error('the batch must not be applied one change at a time');
          },
        },
      });
      const progress = (percent: number, at: number) =>
        ({
          kind: 'progress',
          deviceId: fx.deviceIds[0]!,
          report: { kind: 'progress', phase: 'downloading', percent, module: 'default' },
          at,
        }) as const;
      await reporter(counting).handle([
        progress(30, NOW + 1),
        progress(20, NOW + 2), // backwards: ignored, as one at a time
        progress(90, NOW + 3),
        version('2.0', NOW + 4),
      ]);
      expect(writes).toEqual([1]);
      expect(await upgrades.get(upgradeId)).toMatchObject({ state: 'succeeded', finishedAt: NOW + 4 });
      const steps = await store.db
        .selectFrom('upgrade_events')
        .select(['to_state', 'percent'])
        .where('upgrade_id', '=', upgradeId)
        .where('at', '>', NOW)
        .orderBy('id')
        .execute();
      expect(steps).toEqual([
        { to_state: 'downloading', percent: 30 },
        { to_state: 'downloading', percent: 90 },
        { to_state: 'succeeded', percent: 90 },
      ]);
    },
  );

  it.skipIf(!factory.available)(
    'takes the first version of a device never heard of before as its source, not as a failure',
    async () => {
      await reporter().handle([version('1.0')]);
      const upgrade = await upgrades.get(upgradeId);
      expect(upgrade).toMatchObject({ state: 'notified', sourceVersion: '1.0' });
      // Still on the old version while told: told again.
      expect(pushes).toHaveLength(1);
      await reporter().handle([version('1.5', NOW + 20)]);
      expect(await upgrades.get(upgradeId)).toMatchObject({ state: 'failed', errorCode: 'other' });
    },
  );

  it.skipIf(!factory.available)('reads the jobs of a batch’s upgrades in one query', async () => {
    const [device, other] = fx.deviceIds as [number, number];
    const otherUpgrade = await fx.addUpgrade(fx.jobIds[1]!, other, 'notified');
    const reads: (readonly number[])[] = [];
    const jobs = new JobStore(store.db);
    const counting: JobRepository = Object.create(jobs, {
      getMany: {
        value: (ids: readonly number[]) => {
          reads.push(ids);
          return jobs.getMany(ids);
        },
      },
      get: {
        value: () => {
          throw new Error('a batch must not read its jobs one at a time');
        },
      },
    });
    await reporter(upgrades, counting).handle([
      version('2.0'),
      { kind: 'version', deviceId: other, module: 'default', version: '2.0', at: NOW + 11 },
      { kind: 'online', deviceId: device, at: NOW + 12 },
    ]);
    expect(reads).toHaveLength(1);
    expect(new Set(reads[0])).toEqual(new Set(fx.jobIds));
    expect((await upgrades.get(upgradeId))?.state).toBe('succeeded');
    expect((await upgrades.get(otherUpgrade))?.state).toBe('succeeded');
  });

  it.skipIf(!factory.available)(
    'sees each batch the job as it stands then: a cancelled job tells nobody',
    async () => {
      await reporter().handle([version('1.0')]);
      expect(pushes).toHaveLength(1);
      await store.db
        .updateTable('jobs')
        .set({ state: 'cancelled' })
        .where('id', '=', fx.jobIds[0]!)
        .execute();
      // Still on the old version, but its job no longer tells devices: no new push.
      await reporter().handle([version('1.0', NOW + 20)]);
      expect(pushes).toHaveLength(1);
    },
  );
});
