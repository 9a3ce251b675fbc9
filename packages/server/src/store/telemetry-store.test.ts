import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type StoreFactory, storeFactories } from '../testing/test-stores.js';
import { isDataError } from './constraint-errors.js';
import type { Store } from './database.js';
import { DeviceStore } from './device-store.js';
import { ProductStore } from './product-store.js';
import { PRESENCE_REFRESH_MS, TelemetryStore } from './telemetry-store.js';

/**
 * `writeBatch` as the ingest calls it. On PostgreSQL it is one statement of its own, so the same expectations run on
 * both dialects: the batch must behave exactly like `writeVersions` + `writePresence` in one transaction.
 */
describe.each(storeFactories())('telemetry batches on $name', (factory: StoreFactory) => {
  let store: Store & { drop(): Promise<void> };
  let devices: DeviceStore;
  let telemetry: TelemetryStore;
  let ids: number[];
  const now = 1_700_000_000_000;

  beforeEach(async () => {
    if (!factory.available) return;
    store = await factory.open();
    devices = new DeviceStore(store.db, store.dialect);
    telemetry = new TelemetryStore(store.db, store.dialect);
    await new ProductStore(store.db).create(
      { key: 'pk1', name: 'Lamp', dialect: 'aliyun', signingPublicKey: null, signingPrivateKey: null },
      now,
    );
    const created = await devices.createMany(
      ['a', 'b', 'c'].map((name) => ({ productKey: 'pk1', name, secret: 's', tags: [] })),
      now,
    );
    ids = created.map((d) => d.id);
  });
  afterEach(async () => {
    if (factory.available) await store.drop();
  });

  describe.skipIf(!factory.available)('writeBatch', () => {
    it('keeps the last version per module and the last presence change per device, seen at the latest', async () => {
      const [a, b, c] = ids as [number, number, number];
      await telemetry.writeBatch(
        [
          { deviceId: a, module: 'default', version: '1.0', at: now + 1 },
          { deviceId: a, module: 'default', version: '1.1', at: now + 2 },
          { deviceId: a, module: 'MCU', version: '7', at: now + 1 },
          { deviceId: b, module: 'default', version: '2.0', at: now + 3 },
        ],
        [
          { deviceId: a, online: true, at: now + 2 },
          { deviceId: b, online: true, at: now + 3 },
          { deviceId: c, online: true, at: now + 4 },
          { deviceId: c, online: false, at: now + 6 },
        ],
      );
      expect(await devices.find('pk1', 'a')).toMatchObject({
        online: true,
        lastSeenAt: now + 6,
        versions: [
          { module: 'MCU', version: '7', reportedAt: now + 1 },
          { module: 'default', version: '1.1', reportedAt: now + 2 },
        ],
      });
      expect(await devices.find('pk1', 'b')).toMatchObject({
        online: true,
        lastSeenAt: now + 6,
        versions: [{ module: 'default', version: '2.0', reportedAt: now + 3 }],
      });
      expect(await devices.find('pk1', 'c')).toMatchObject({
        online: false,
        lastSeenAt: now + 6,
        versions: [],
      });

      // A later batch replaces versions and presence.
      await telemetry.writeBatch(
        [{ deviceId: a, module: 'default', version: '1.2', at: now + 9 }],
        [{ deviceId: c, online: true, at: now + 9 }],
      );
      expect((await devices.find('pk1', 'a'))?.versions).toContainEqual({
        module: 'default',
        version: '1.2',
        reportedAt: now + 9,
      });
      expect(await devices.find('pk1', 'a')).toMatchObject({ lastSeenAt: now + 6 });
      expect(await devices.find('pk1', 'c')).toMatchObject({ online: true, lastSeenAt: now + 9 });
    });

    it('writes versions alone, presence alone, and any text a device sends', async () => {
      const [a, b] = ids as [number, number];
      const odd = `1.0 "beta", {x} \\ 'q' ü 🚀 NULL`;
      await telemetry.writeBatch([{ deviceId: a, module: 'mod,{1}', version: odd, at: now }], []);
      expect(await devices.find('pk1', 'a')).toMatchObject({
        online: false,
        lastSeenAt: null,
        versions: [{ module: 'mod,{1}', version: odd, reportedAt: now }],
      });
      await telemetry.writeBatch([], [{ deviceId: b, online: true, at: now + 1 }]);
      expect(await devices.find('pk1', 'b')).toMatchObject({
        online: true,
        lastSeenAt: now + 1,
        versions: [],
      });
      await telemetry.writeBatch([], []);
    });

    it('refreshes an online device’s last seen at most every PRESENCE_REFRESH_MS, and writes every change of online', async () => {
      const [a] = ids as [number];
      const seen = async () => devices.find('pk1', 'a');
      const presence = (online: boolean, at: number) =>
        telemetry.writeBatch([], [{ deviceId: a, online, at }]);
      await presence(true, now);
      expect(await seen()).toMatchObject({ online: true, lastSeenAt: now });
      await presence(true, now + PRESENCE_REFRESH_MS - 1);
      expect(await seen()).toMatchObject({ online: true, lastSeenAt: now });
      await presence(true, now + PRESENCE_REFRESH_MS + 1);
      expect(await seen()).toMatchObject({ online: true, lastSeenAt: now + PRESENCE_REFRESH_MS + 1 });
      // Going offline and back within the interval: both written, whatever the time.
      await presence(false, now + PRESENCE_REFRESH_MS + 2);
      expect(await seen()).toMatchObject({ online: false, lastSeenAt: now + PRESENCE_REFRESH_MS + 2 });
      await presence(true, now + PRESENCE_REFRESH_MS + 3);
      expect(await seen()).toMatchObject({ online: true, lastSeenAt: now + PRESENCE_REFRESH_MS + 3 });
      // A message that claims an earlier time never moves last seen back.
      await presence(true, now);
      expect(await seen()).toMatchObject({ online: true, lastSeenAt: now + PRESENCE_REFRESH_MS + 3 });
    });

    it('writes nothing of a batch that fails', async () => {
      const [a] = ids as [number];
      const error = await telemetry
        .writeBatch(
          [
            { deviceId: a, module: 'default', version: '1.0', at: now },
            { deviceId: 999_999, module: 'default', version: '1.0', at: now },
          ],
          [{ deviceId: a, online: true, at: now }],
        )
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      // A refusal of the data (the ingest then writes the batch in parts to isolate the message at fault).
      expect(isDataError(error)).toBe(true);
      expect(await devices.find('pk1', 'a')).toMatchObject({ online: false, lastSeenAt: null, versions: [] });
    });
  });

  describe.skipIf(!factory.available)('resolveMany', () => {
    it('resolves devices of several products in one go, and skips the unknown', async () => {
      await new ProductStore(store.db).create(
        { key: 'pk2', name: 'Fan', dialect: 'tencent', signingPublicKey: null, signingPrivateKey: null },
        now,
      );
      const [other] = await devices.createMany(
        [{ productKey: 'pk2', name: 'a', secret: 's', tags: [] }],
        now,
      );
      const many = Array.from({ length: 1200 }, (_, i) => ({
        productKey: `pk${3 + (i % 10)}`,
        deviceName: `x${i}`,
      }));
      const resolved = await devices.resolveMany([
        { productKey: 'pk1', deviceName: 'a' },
        { productKey: 'pk2', deviceName: 'a' },
        { productKey: 'pk1', deviceName: 'c' },
        { productKey: 'pk2', deviceName: 'ghost' },
        { productKey: 'pk1', deviceName: 'a' },
        ...many,
      ]);
      expect(Object.fromEntries(resolved)).toEqual({
        'pk1/a': { id: ids[0], dialect: 'aliyun' },
        'pk1/c': { id: ids[2], dialect: 'aliyun' },
        'pk2/a': { id: other!.id, dialect: 'tencent' },
      });
    });

    it('matches names exactly, whatever characters JSON, LIKE or SQL would treat specially', async () => {
      const names = [
        `it's "quoted"`,
        'back\\slash',
        '100%_off',
        'a/b',
        'Ünïcödé 🚀',
        'x; DROP TABLE devices',
        ' a ',
      ];
      const created = await devices.createMany(
        names.map((name) => ({ productKey: 'pk1', name, secret: 's', tags: [] })),
        now,
      );
      const resolved = await devices.resolveMany([
        ...names.map((deviceName) => ({ productKey: 'pk1', deviceName })),
        // Near misses: a wildcard, another case, a trimmed name.
        { productKey: 'pk1', deviceName: '100%' },
        { productKey: 'pk1', deviceName: 'A' },
        { productKey: 'pk1', deviceName: 'a ' },
      ]);
      expect(Object.fromEntries(resolved)).toEqual(
        Object.fromEntries(created.map((d) => [`pk1/${d.name}`, { id: d.id, dialect: 'aliyun' }])),
      );
    });

    it('resolves nothing from no references', async () => {
      expect((await devices.resolveMany([])).size).toBe(0);
    });
  });
});
