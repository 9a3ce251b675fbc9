import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  eventually,
  serverModes,
  startTestServer,
  type TestServer,
  uniqueProductKey,
} from '../src/testing/test-server.js';
import { connectDevice } from './device-connect.js';

interface DeviceRecord {
  name: string;
  secret: string;
}
interface Detail {
  online: boolean;
  versions: { module: string; version: string; reportedAt: number }[];
}

/** Byte-for-byte what each vendor's device SDK publishes to report its version. */
const dialects = [
  {
    dialect: 'aliyun',
    scheme: 'aliyun',
    productKey: uniqueProductKey(11),
    topic: (pk: string, dn: string) => `/ota/device/inform/${pk}/${dn}`,
    payload: '{"id":"123","params":{"version":"1.0.1","module":"MCU"}}',
    expected: [{ module: 'MCU', version: '1.0.1' }],
  },
  {
    dialect: 'tencent',
    scheme: 'tencent',
    productKey: uniqueProductKey(10),
    topic: (pk: string, dn: string) => `$ota/report/${pk}/${dn}`,
    payload: '{"type":"report_version","report":{"version":"0.1"}}',
    expected: [{ module: 'default', version: '0.1' }],
  },
  {
    dialect: 'iothub',
    scheme: 'plain',
    productKey: uniqueProductKey(8),
    topic: (pk: string, dn: string) => `update_status/${pk}/${dn}/msg-1`,
    payload: '{"firmware_ver":"1.1","app_ver":"2.3"}',
    expected: [
      { module: 'app', version: '2.3' },
      { module: 'firmware', version: '1.1' },
    ],
  },
] as const;

describe.each(serverModes())('version reporting with $name', (mode) => {
  let t: TestServer;
  const clients: MqttClient[] = [];
  const secrets = new Map<string, string>();

  beforeAll(async () => {
    if (!mode.available) return;
    t = await startTestServer({ store: mode.store, broker: mode.broker });
    for (const d of dialects) {
      expect(
        (await t.api('POST', '/api/v1/products', { key: d.productKey, name: d.dialect, dialect: d.dialect }))
          .status,
      ).toBe(201);
      const created = await t.api<DeviceRecord>('POST', `/api/v1/products/${d.productKey}/devices`, {
        name: 'dev-1',
      });
      expect(created.status).toBe(201);
      secrets.set(d.productKey, created.body.secret);
    }
  });
  afterAll(async () => {
    for (const c of clients) await c.endAsync(true);
    if (mode.available) await t.close();
  });

  for (const d of dialects) {
    it.skipIf(!mode.available)(
      `records a ${d.dialect} version report in the device detail and the distribution`,
      async () => {
        const device = { productKey: d.productKey, deviceName: 'dev-1' };
        const client = await connectDevice(t.mqttUrl, d.scheme, device, secrets.get(d.productKey)!);
        clients.push(client);
        await client.publishAsync(d.topic(d.productKey, 'dev-1'), d.payload, { qos: 1 });

        const detail = await eventually(async () => {
          const r = await t.api<Detail>('GET', `/api/v1/products/${d.productKey}/devices/dev-1`);
          return r.body.versions.length === d.expected.length ? r.body : undefined;
        }, 'the version report');
        expect(detail.versions.map(({ module, version }) => ({ module, version }))).toEqual(d.expected);
        expect(detail.versions[0]!.reportedAt).toBeGreaterThan(Date.now() - 60_000);
        expect(detail, JSON.stringify(detail)).toMatchObject({ online: true });

        const distribution = await t.api('GET', `/api/v1/products/${d.productKey}/versions`);
        expect(distribution.body).toEqual(d.expected.map((e) => ({ ...e, devices: 1 })));
      },
    );
  }

  it.skipIf(!mode.available)('answers a Tencent report_version with report_version_rsp', async () => {
    const pk = dialects[1].productKey;
    const device = { productKey: pk, deviceName: 'dev-1' };
    const client = await connectDevice(t.mqttUrl, 'tencent', device, secrets.get(pk)!);
    clients.push(client);
    await client.subscribeAsync(`$ota/update/${pk}/dev-1`, { qos: 1 });
    const reply = new Promise<string>((resolve) => client.on('message', (_t, p) => resolve(p.toString())));
    await client.publishAsync(
      `$ota/report/${pk}/dev-1`,
      '{"type":"report_version","report":{"version":"0.2"}}',
      {
        qos: 1,
      },
    );
    expect(JSON.parse(await reply)).toEqual({
      type: 'report_version_rsp',
      result_code: 0,
      result_msg: 'success',
      version: '0.2',
    });
  });
});
