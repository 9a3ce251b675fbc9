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

const scaled = serverModes().find((m) => m.store === 'postgres' && m.broker === 'external')!;
const DEVICES = 16;

interface TencentDevice {
  name: string;
  client: MqttClient;
  /** Versions of the report_version_rsp answers received, in order. */
  acks: string[];
}

/**
 * Mosquitto does not deliver `$` topics to shared subscriptions, so both instances receive every Tencent report.
 * Each must handle only the devices the partition gives it: one report_version_rsp per report, counted at the device.
 */
describe.skipIf(!scaled.available)('Tencent reports with two instances on Mosquitto + PostgreSQL', () => {
  const pk = uniqueProductKey(10);
  const schema = testSchema();
  const devices: TencentDevice[] = [];
  let a: TestServer;
  let b: TestServer;
  let bClosed = false;

  const ref = (name: string) => ({ productKey: pk, deviceName: name });
  const reportTopic = (name: string) => `$ota/report/${pk}/${name}`;
  const handledBy = (t: TestServer) =>
    devices.filter((d) => t.server.broker.handles(reportTopic(d.name), ref(d.name)));

  /** Every device reports `version`; resolves once each has its answer and the instances counted every report. */
  async function reportAll(version: string, expectedReports: number, servers: TestServer[]): Promise<void> {
    await Promise.all(
      devices.map((d) =>
        d.client.publishAsync(
          reportTopic(d.name),
          JSON.stringify({ type: 'report_version', report: { version } }),
          {
            qos: 1,
          },
        ),
      ),
    );
    await eventually(async () => {
      const counted = (await Promise.all(servers.map(versionMessages))).reduce((x, y) => x + y, 0);
      return devices.every((d) => d.acks.includes(version)) && counted >= expectedReports;
    }, `an answer to every ${version} report`);
  }

  beforeAll(async () => {
    // One share group and one schema, as in production; short heartbeats so that membership settles quickly.
    const options = {
      store: 'postgres',
      broker: 'external',
      schema,
      overrides: { mqttShareGroup: `g${randomBytes(4).toString('hex')}`, instanceHeartbeatMs: 500 },
    } as const;
    a = await startTestServer(options);
    b = await startTestServer(options);
    expect(
      (await a.api('POST', '/api/v1/products', { key: pk, name: 'tencent', dialect: 'tencent' })).status,
    ).toBe(201);
    const imported = await a.api<{ devices: { name: string; secret: string }[] }>(
      'POST',
      `/api/v1/products/${pk}/devices/import`,
      { devices: Array.from({ length: DEVICES }, (_, i) => ({ name: `dev-${i}` })) },
    );
    for (const { name, secret } of imported.body.devices) {
      const client = await connectDevice(a.mqttUrl, 'tencent', ref(name), secret);
      const device: TencentDevice = { name, client, acks: [] };
      client.on('message', (_topic, payload) => {
        const message = JSON.parse(payload.toString()) as { type?: string; version?: string };
        if (message.type === 'report_version_rsp') device.acks.push(String(message.version));
      });
      await client.subscribeAsync(`$ota/update/${pk}/${name}`, { qos: 1 });
      devices.push(device);
    }
  });
  afterAll(async () => {
    for (const d of devices) await d.client.endAsync(true);
    if (!bClosed) await b?.close();
    await a?.close();
    // Given an explicit schema, the test servers leave it: drop it here.
    await dropSchema(serviceUrl(POSTGRES)!, schema);
  });

  it('answers each report once while both run, and once after one stops', { timeout: 60_000 }, async () => {
    // Both instances have seen each other and the grace after the change is over: each device has one owner.
    await eventually(
      async () => devices.every((d) => handledBy(a).includes(d) !== handledBy(b).includes(d)),
      'the instances to agree on who handles which device',
    );
    const [ownedByA, ownedByB] = [handledBy(a).length, handledBy(b).length];
    expect(ownedByA + ownedByB).toBe(DEVICES);
    expect(ownedByA).toBeGreaterThan(0);
    expect(ownedByB).toBeGreaterThan(0);
    const rows = await a.server.store.db.selectFrom('server_instances').select('id').execute();
    expect(rows).toHaveLength(2);

    await reportAll('1.0', DEVICES, [a, b]);
    await reportAll('1.1', 2 * DEVICES, [a, b]);
    // Had an instance answered another's device, the device would hold a second answer to 1.0 before 1.1's.
    for (const d of devices) expect(d.acks, d.name).toEqual(['1.0', '1.1']);
    expect(await versionMessages(a)).toBe(2 * ownedByA);
    expect(await versionMessages(b)).toBe(2 * ownedByB);

    // b leaves gracefully; a takes over all of its devices.
    await b.close();
    bClosed = true;
    await eventually(async () => handledBy(a).length === DEVICES, 'a to handle every device');
    expect(await a.server.store.db.selectFrom('server_instances').select('id').execute()).toHaveLength(1);
    await reportAll('2.0', 2 * ownedByA + DEVICES, [a]);
    for (const d of devices) expect(d.acks, d.name).toEqual(['1.0', '1.1', '2.0']);
    expect(await versionMessages(a)).toBe(2 * ownedByA + DEVICES);
  });
});
