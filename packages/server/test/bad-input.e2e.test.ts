import { deviceCredentials } from '@aloft/protocol';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  eventually,
  serverModes,
  startTestServer,
  type TestServer,
  uniqueProductKey,
} from '../src/testing/test-server.js';
import { connectDevice, connectionRefused } from './device-connect.js';

interface Detail {
  versions: { module: string; version: string }[];
}

const PK = uniqueProductKey(11);

async function metric(t: TestServer, name: string, labels: string): Promise<number> {
  const text = await (await fetch(`${t.server.httpUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line ? Number(line.split(' ').pop()) : 0;
}

async function versionsOf(t: TestServer, name: string): Promise<Detail['versions']> {
  return (await t.api<Detail>('GET', `/api/v1/products/${PK}/devices/${name}`)).body.versions;
}

describe.each(serverModes())('bad device input with $name', (mode) => {
  let t: TestServer;
  let alice: MqttClient;
  const secrets: Record<string, string> = {};

  beforeAll(async () => {
    if (!mode.available) return;
    t = await startTestServer({ store: mode.store, broker: mode.broker });
    await t.api('POST', '/api/v1/products', { key: PK, name: 'bad input', dialect: 'aliyun' });
    for (const name of ['alice', 'bob']) {
      secrets[name] = (
        await t.api<{ secret: string }>('POST', `/api/v1/products/${PK}/devices`, { name })
      ).body.secret;
    }
    alice = await connectDevice(t.mqttUrl, 'aliyun', { productKey: PK, deviceName: 'alice' }, secrets.alice!);
    // A known-good report first, so every later check can see that nothing changed it.
    await alice.publishAsync(`/ota/device/inform/${PK}/alice`, '{"id":"1","params":{"version":"1.0.0"}}', {
      qos: 1,
    });
    await eventually(async () => (await versionsOf(t, 'alice')).length === 1, 'the first report');
  });
  afterAll(async () => {
    if (!mode.available) return;
    await alice.endAsync(true);
    await t.close();
  });

  it.skipIf(!mode.available)(
    'refuses malformed payloads with a counted reason and no state change',
    async () => {
      const before = await metric(t, 'aloft_decode_errors_total', 'code="malformed_json"');
      for (const payload of [
        '{not json',
        '',
        '\u0000\u0001garbage',
        '[1,2]',
        '{"params":{"version":123456}}',
      ]) {
        await alice.publishAsync(`/ota/device/inform/${PK}/alice`, payload, { qos: 1 });
      }
      await eventually(
        async () => (await metric(t, 'aloft_decode_errors_total', 'code="malformed_json"')) > before,
        'decode errors to be counted',
      );
      // A good message after the bad ones is still processed: the bad ones broke nothing.
      await alice.publishAsync(`/ota/device/inform/${PK}/alice`, '{"id":"2","params":{"version":"1.0.1"}}', {
        qos: 1,
      });
      await eventually(
        async () => (await versionsOf(t, 'alice'))[0]?.version === '1.0.1',
        'the next good report',
      );
    },
  );

  it.skipIf(!mode.available)('refuses an oversized message', async () => {
    const before = await metric(t, 'aloft_decode_errors_total', 'code="too_large"');
    const huge = JSON.stringify({ id: '3', params: { version: '9.9.9', desc: 'x'.repeat(200_000) } });
    await alice.publishAsync(`/ota/device/inform/${PK}/alice`, huge, { qos: 1 });
    await eventually(
      async () => (await metric(t, 'aloft_decode_errors_total', 'code="too_large"')) > before,
      'the refusal',
    );
    expect((await versionsOf(t, 'alice'))[0]?.version).toBe('1.0.1');
  });

  it.skipIf(!mode.available)(
    'refuses text that cannot be stored (a NUL, an unpaired surrogate) and loses no report beside it',
    async () => {
      const before = await metric(t, 'aloft_decode_errors_total', 'code="invalid_payload"');
      const inform = (payload: string) =>
        alice.publishAsync(`/ota/device/inform/${PK}/alice`, payload, { qos: 1 });
      // Sent together, so they would share an ingest batch: PostgreSQL refuses such text, and the batch with it.
      await Promise.all([
        inform('{"id":"4","params":{"version":"2.0\\u0000"}}'),
        inform('{"id":"5","params":{"version":"x\\ud800"}}'),
        inform('{"id":"6","params":{"version":"1.0.2"}}'),
      ]);
      await eventually(
        async () => (await metric(t, 'aloft_decode_errors_total', 'code="invalid_payload"')) >= before + 2,
        'both refusals counted',
      );
      await eventually(
        async () => (await versionsOf(t, 'alice'))[0]?.version === '1.0.2',
        'the good report sent with them',
      );
    },
  );

  // The embedded broker authenticates and enforces the ACL itself; an external broker's own configuration does.
  if (mode.broker === 'embedded')
    it.skipIf(!mode.available)('refuses wrong secrets, unknown devices and unknown products', async () => {
      const device = { productKey: PK, deviceName: 'alice' };
      expect(
        await connectionRefused(t.mqttUrl, deviceCredentials('aliyun', device, 'd3Jvbmcgc2VjcmV0')),
      ).toBe(true);
      expect(await connectionRefused(t.mqttUrl, deviceCredentials('plain', device, 'wrong-secret'))).toBe(
        true,
      );
      expect(
        await connectionRefused(
          t.mqttUrl,
          deviceCredentials('aliyun', { productKey: PK, deviceName: 'mallory' }, secrets.alice!),
        ),
      ).toBe(true);
      expect(
        await connectionRefused(
          t.mqttUrl,
          deviceCredentials('aliyun', { productKey: 'noSuchProd', deviceName: 'alice' }, secrets.alice!),
        ),
      ).toBe(true);
      expect(await connectionRefused(t.mqttUrl, { clientId: 'x', username: 'nobody', password: 'x' })).toBe(
        true,
      );
      expect(
        await metric(t, 'aloft_device_messages_refused_total', 'reason="bad_signature"'),
      ).toBeGreaterThanOrEqual(2);
      expect(
        await metric(t, 'aloft_device_messages_refused_total', 'reason="unknown_device"'),
      ).toBeGreaterThanOrEqual(2);
    });

  if (mode.broker === 'embedded')
    it.skipIf(!mode.available)('refuses a device publishing on another device’s topic', async () => {
      const bob = await connectDevice(
        t.mqttUrl,
        'aliyun',
        { productKey: PK, deviceName: 'bob' },
        secrets.bob!,
      );
      const version = (await versionsOf(t, 'alice'))[0]?.version;
      try {
        // aedes answers an unauthorized publish by dropping the client (MQTT 3.1.1 has no negative PUBACK).
        const closed = new Promise<void>((resolve) => bob.once('close', () => resolve()));
        bob.publish(`/ota/device/inform/${PK}/alice`, '{"id":"4","params":{"version":"6.6.6"}}', { qos: 0 });
        await closed;
        expect(
          await metric(t, 'aloft_device_messages_refused_total', 'reason="acl_publish"'),
        ).toBeGreaterThanOrEqual(1);
        expect((await versionsOf(t, 'alice'))[0]?.version).toBe(version);
      } finally {
        await bob.endAsync(true);
      }
    });

  if (mode.broker === 'embedded')
    it.skipIf(!mode.available)('refuses a subscription to another device’s tasks', async () => {
      const bob = await connectDevice(
        t.mqttUrl,
        'aliyun',
        { productKey: PK, deviceName: 'bob' },
        secrets.bob!,
      );
      try {
        // mqtt.js rejects a SUBACK failure (0x80).
        await expect(bob.subscribeAsync(`/ota/device/upgrade/${PK}/alice`)).rejects.toThrow(
          /Subscribe error/,
        );
        const own = await bob.subscribeAsync(`/ota/device/upgrade/${PK}/bob`);
        expect(own[0]?.qos).not.toBe(128);
        // LinkSDK's wildcard subscription is narrowed to bob's own topic: alice's tasks never reach bob.
        const seen: string[] = [];
        bob.on('message', (topic) => seen.push(topic));
        await bob.subscribeAsync(`/ota/device/upgrade/+/+`);
        await t.server.broker.publish({
          topic: `/ota/device/upgrade/${PK}/alice`,
          payload: 'for alice',
          qos: 1,
        });
        await t.server.broker.publish({ topic: `/ota/device/upgrade/${PK}/bob`, payload: 'for bob', qos: 1 });
        await eventually(async () => seen.includes(`/ota/device/upgrade/${PK}/bob`), 'bob’s own task');
        expect(seen).not.toContain(`/ota/device/upgrade/${PK}/alice`);
      } finally {
        await bob.endAsync(true);
      }
    });

  if (mode.broker === 'external')
    it.skipIf(!mode.available)(
      'drops messages about unknown devices (the broker does not authenticate them)',
      async () => {
        const before = await metric(t, 'aloft_device_messages_refused_total', 'reason="unknown_device"');
        const ghost = await connectDevice(
          t.mqttUrl,
          'plain',
          { productKey: PK, deviceName: 'ghost' },
          'irrelevant',
        );
        try {
          await ghost.publishAsync(
            `/ota/device/inform/${PK}/ghost`,
            '{"id":"5","params":{"version":"1.0"}}',
            {
              qos: 1,
            },
          );
          await eventually(
            async () =>
              (await metric(t, 'aloft_device_messages_refused_total', 'reason="unknown_device"')) > before,
            'the refusal',
          );
          expect((await t.api('GET', `/api/v1/products/${PK}/devices/ghost`)).status).toBe(404);
        } finally {
          await ghost.endAsync(true);
        }
      },
    );
});
