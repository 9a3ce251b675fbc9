import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type StoreFactory, storeFactories } from '../testing/test-stores.js';
import type { Store } from './database.js';
import { DeviceStore } from './device-store.js';
import { ProductStore } from './product-store.js';
import { TelemetryStore } from './telemetry-store.js';
import { TokenStore } from './token-store.js';

/** The repository conformance suite: every store implementation must pass it, SQLite and PostgreSQL alike. */
describe.each(storeFactories())('repositories on $name', (factory: StoreFactory) => {
  let store: Store & { drop(): Promise<void> };
  let products: ProductStore;
  let devices: DeviceStore;
  let telemetry: TelemetryStore;
  const now = 1_700_000_000_000;

  beforeEach(async () => {
    if (!factory.available) return;
    store = await factory.open();
    products = new ProductStore(store.db);
    devices = new DeviceStore(store.db, store.dialect);
    telemetry = new TelemetryStore(store.db, store.dialect);
    await products.create(
      { key: 'pk1', name: 'Lamp', dialect: 'aliyun', signingPublicKey: null, signingPrivateKey: null },
      now,
    );
  });
  afterEach(async () => {
    if (factory.available) await store.drop();
  });

  describe.skipIf(!factory.available)('products', () => {
    it('refuses a second product with the same key', async () => {
      await expect(
        products.create(
          { key: 'pk1', name: 'Other', dialect: 'tencent', signingPublicKey: null, signingPrivateKey: null },
          now,
        ),
      ).rejects.toMatchObject({ code: 'ALOFT_PRODUCT_EXISTS' });
      expect((await products.list()).map((p) => p.name)).toEqual(['Lamp']);
    });

    it('keeps the signing private key out of the product record', async () => {
      await products.create(
        { key: 'pk2', name: 'Signed', dialect: 'iothub', signingPublicKey: 'PUB', signingPrivateKey: 'PRIV' },
        now,
      );
      expect(await products.get('pk2')).not.toHaveProperty('signingPrivateKey');
      expect(await products.signingPrivateKey('pk2')).toBe('PRIV');
    });
  });

  describe.skipIf(!factory.available)('devices', () => {
    it('creates devices with tags and finds them', async () => {
      await devices.createMany(
        [
          { productKey: 'pk1', name: 'd1', secret: 's1', tags: ['eu', 'beta'] },
          { productKey: 'pk1', name: 'd2', secret: 's2', tags: [] },
        ],
        now,
      );
      const d1 = await devices.find('pk1', 'd1');
      expect(d1).toMatchObject({ name: 'd1', tags: ['beta', 'eu'], online: false, versions: [] });
      expect(await devices.credentials('pk1', 'd1')).toMatchObject({ secret: 's1', dialect: 'aliyun' });
      expect(await devices.find('pk1', 'nope')).toBeUndefined();
    });

    it('imports all or nothing when one device already exists', async () => {
      await devices.createMany([{ productKey: 'pk1', name: 'd1', secret: 's', tags: [] }], now);
      await expect(
        devices.createMany(
          [
            { productKey: 'pk1', name: 'd9', secret: 's', tags: [] },
            { productKey: 'pk1', name: 'd1', secret: 's', tags: [] },
          ],
          now,
        ),
      ).rejects.toMatchObject({ code: 'ALOFT_DEVICE_EXISTS', message: 'Device pk1/d1 already exists' });
      expect(await devices.find('pk1', 'd9')).toBeUndefined();
    });

    it('filters by version, tag, online and name, and paginates', async () => {
      const created = await devices.createMany(
        Array.from({ length: 30 }, (_, i) => ({
          productKey: 'pk1',
          name: `dev-${String(i).padStart(2, '0')}`,
          secret: 's',
          tags: i % 3 === 0 ? ['gray'] : [],
        })),
        now,
      );
      await telemetry.writeVersions(
        created.map((d, i) => ({
          deviceId: d.id,
          module: 'default',
          version: i < 10 ? '1.0' : '2.0',
          at: now,
        })),
      );
      await telemetry.writePresence(
        created.slice(0, 5).map((d) => ({ deviceId: d.id, online: true, at: now })),
      );

      const v1 = await devices.list({ productKey: 'pk1', version: '1.0', limit: 4, offset: 0 });
      expect(v1.total).toBe(10);
      expect(v1.items.map((d) => d.name)).toEqual(['dev-00', 'dev-01', 'dev-02', 'dev-03']);
      expect(v1.items[0]?.versions).toEqual({ default: '1.0' });
      const page2 = await devices.list({ productKey: 'pk1', version: '1.0', limit: 4, offset: 8 });
      expect(page2.items.map((d) => d.name)).toEqual(['dev-08', 'dev-09']);
      expect((await devices.list({ tag: 'gray', limit: 100, offset: 0 })).total).toBe(10);
      expect((await devices.list({ online: true, limit: 100, offset: 0 })).total).toBe(5);
      expect((await devices.list({ search: 'dev-2', limit: 100, offset: 0 })).total).toBe(10);
      expect((await devices.list({ search: '%', limit: 100, offset: 0 })).total).toBe(0);
    });

    it('replaces tags and deletes devices with their versions', async () => {
      const [d] = await devices.createMany(
        [{ productKey: 'pk1', name: 'd1', secret: 's', tags: ['a'] }],
        now,
      );
      expect(await devices.setTags('pk1', 'd1', ['b', 'c'])).toBe(true);
      expect((await devices.find('pk1', 'd1'))?.tags).toEqual(['b', 'c']);
      expect(await devices.setTags('pk1', 'ghost', ['b'])).toBe(false);
      await telemetry.writeVersions([{ deviceId: d!.id, module: 'default', version: '1', at: now }]);
      expect(await devices.delete('pk1', 'd1')).toBe(true);
      expect(await devices.versionDistribution('pk1')).toEqual([]);
      expect(await devices.delete('pk1', 'd1')).toBe(false);
    });
  });

  describe.skipIf(!factory.available)('telemetry', () => {
    it('keeps the last version a batch reports per module and counts the distribution', async () => {
      const [a, b] = await devices.createMany(
        [
          { productKey: 'pk1', name: 'a', secret: 's', tags: [] },
          { productKey: 'pk1', name: 'b', secret: 's', tags: [] },
        ],
        now,
      );
      await telemetry.writeVersions([
        { deviceId: a!.id, module: 'default', version: '1.0', at: now },
        { deviceId: a!.id, module: 'default', version: '1.1', at: now + 1 },
        { deviceId: a!.id, module: 'MCU', version: '7', at: now + 1 },
        { deviceId: b!.id, module: 'default', version: '1.1', at: now + 2 },
      ]);
      const detail = await devices.find('pk1', 'a');
      expect(detail?.versions).toEqual([
        { module: 'MCU', version: '7', reportedAt: now + 1 },
        { module: 'default', version: '1.1', reportedAt: now + 1 },
      ]);
      const distribution = await devices.versionDistribution('pk1', 'default');
      expect(distribution).toEqual([{ module: 'default', version: '1.1', devices: 2 }]);
    });

    it('applies the last presence change per device and marks everyone offline on demand', async () => {
      const [a] = await devices.createMany([{ productKey: 'pk1', name: 'a', secret: 's', tags: [] }], now);
      await telemetry.writePresence([
        { deviceId: a!.id, online: true, at: now },
        { deviceId: a!.id, online: false, at: now + 5 },
        { deviceId: a!.id, online: true, at: now + 9 },
      ]);
      expect(await devices.find('pk1', 'a')).toMatchObject({ online: true, lastSeenAt: now + 9 });
      await telemetry.markAllOffline();
      expect(await devices.find('pk1', 'a')).toMatchObject({ online: false });
    });
  });

  describe.skipIf(!factory.available)('tokens', () => {
    it('stores token hashes and finds them', async () => {
      const tokens = new TokenStore(store.db);
      expect(await tokens.count()).toBe(0);
      const token = await tokens.create('admin', 'h1', now);
      expect(await tokens.findByHash('h1', now + 120_000)).toMatchObject({ id: token.id, name: 'admin' });
      expect((await tokens.list())[0]?.lastUsedAt).toBe(now + 120_000);
      expect(await tokens.findByHash('nope', now)).toBeUndefined();
    });
  });
});
