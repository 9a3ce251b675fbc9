import { randomBytes } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POSTGRES, serviceUrl } from '../src/testing/services.js';
import {
  dropSchema,
  eventually,
  serverModes,
  startTestServer,
  type TestServer,
  testSchema,
  uniqueProductKey,
} from '../src/testing/test-server.js';
import { connectDevice } from './device-connect.js';
import { versionMessages } from './server-metrics.js';

const scaled = serverModes().find((m) => m.broker === 'external')!;
const DEVICES = 40;

describe.skipIf(!scaled.available)('two server instances on Mosquitto + PostgreSQL', () => {
  const pk = uniqueProductKey(11);
  const schema = testSchema();
  const shareGroup = `g${randomBytes(4).toString('hex')}`;
  let a: TestServer;
  let b: TestServer;
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    const options = {
      store: 'postgres',
      broker: 'external',
      schema,
      overrides: { mqttShareGroup: shareGroup },
    } as const;
    a = await startTestServer(options);
    b = await startTestServer(options);
    await a.api('POST', '/api/v1/products', { key: pk, name: 'scale-out', dialect: 'aliyun' });
    const devices = Array.from({ length: DEVICES }, (_, i) => ({ name: `d${i}` }));
    const imported = await a.api<{ devices: { name: string; secret: string }[] }>(
      'POST',
      `/api/v1/products/${pk}/devices/import`,
      { devices },
    );
    for (const d of imported.body.devices) {
      clients.push(
        await connectDevice(a.mqttUrl, 'aliyun', { productKey: pk, deviceName: d.name }, d.secret),
      );
    }
  });
  afterAll(async () => {
    for (const c of clients) await c.endAsync(true);
    await b?.close();
    await a?.close();
    // Given an explicit schema, the test servers leave it: drop it here.
    await dropSchema(serviceUrl(POSTGRES)!, schema);
  });

  it('splits device traffic between the instances and records every report exactly once', async () => {
    await Promise.all(
      clients.map((c, i) =>
        c.publishAsync(`/ota/device/inform/${pk}/d${i}`, `{"id":"${i}","params":{"version":"3.${i}"}}`, {
          qos: 1,
        }),
      ),
    );
    const distribution = await eventually(async () => {
      const r = await b.api<{ version: string; devices: number }[]>('GET', `/api/v1/products/${pk}/versions`);
      return r.body.length === DEVICES ? r.body : undefined;
    }, 'every report in the shared database');
    expect(distribution.every((v) => v.devices === 1)).toBe(true);
    const [fromA, fromB] = [await versionMessages(a), await versionMessages(b)];
    // A shared subscription hands each message to one member of the group (QoS 1 allows a rare redelivery).
    expect(fromA + fromB).toBeGreaterThanOrEqual(DEVICES);
    expect(fromA + fromB).toBeLessThan(DEVICES * 1.5);
    expect(fromA).toBeGreaterThan(0);
    expect(fromB).toBeGreaterThan(0);
  });
});
