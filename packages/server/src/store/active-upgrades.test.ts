import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type StoreFactory, storeFactories } from '../testing/test-stores.js';
import type { Store } from './database.js';
import { type EventFixture, seedEventFixture } from './testing/upgrade-event-fixture.js';
import { UpgradeStore } from './upgrade-store.js';

const NOW = 1_700_000_000_000;

describe.each(storeFactories())('active upgrades of devices on $name', (factory: StoreFactory) => {
  let store: Store & { drop(): Promise<void> };
  let upgrades: UpgradeStore;
  let fx: EventFixture;

  beforeEach(async () => {
    if (!factory.available) return;
    store = await factory.open();
    upgrades = new UpgradeStore(store.db, store.dialect);
    fx = await seedEventFixture(store.db, { devices: 1200, jobs: 2, now: NOW });
  });
  afterEach(async () => {
    if (factory.available) await store.drop();
  });

  it.skipIf(!factory.available)(
    'reads the active upgrades of a batch of a thousand devices in one go, with what is needed to tell them',
    async () => {
      const [current, finished] = fx.jobIds as [number, number];
      const upgrading = fx.deviceIds.filter((_, i) => i % 2 === 0);
      await fx.addUpgrades(current, upgrading, 'queued');
      // Finished upgrades are history, not active: never returned.
      await fx.addUpgrades(
        finished,
        fx.deviceIds.filter((_, i) => i % 3 === 0),
        'succeeded',
      );

      const active = await upgrades.activeForDevices([...fx.deviceIds, fx.deviceIds[0]!, 999_999]);

      expect(active.map((u) => u.deviceId).sort((a, b) => a - b)).toEqual(upgrading);
      const job = await store.db
        .selectFrom('jobs')
        .select('firmware_id')
        .where('id', '=', current)
        .executeTakeFirstOrThrow();
      expect(active.find((u) => u.deviceId === fx.deviceIds[0])).toMatchObject({
        jobId: current,
        state: 'queued',
        productKey: 'pk1',
        deviceName: 'dev-1',
        dialect: 'aliyun',
        targetVersion: '2.0',
        firmwareId: Number(job.firmware_id),
      });
    },
  );

  it.skipIf(!factory.available)(
    'reads nothing for no devices, or devices without an active upgrade',
    async () => {
      expect(await upgrades.activeForDevices([])).toEqual([]);
      expect(await upgrades.activeForDevices(fx.deviceIds.slice(0, 3))).toEqual([]);
    },
  );
});
