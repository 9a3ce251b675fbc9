import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../src/store/database.js';
import { eventually, startTestServer, uniqueProductKey } from '../src/testing/test-server.js';
import { connectDevice } from './device-connect.js';

describe('graceful shutdown', () => {
  it('writes the messages still waiting in the ingest batch before closing the database', async () => {
    // A long batch window keeps the report in memory until shutdown flushes it.
    const t = await startTestServer({ overrides: { ingestBatchMs: 1000, ingestBatchMax: 10_000 } });
    const pk = uniqueProductKey(8);
    try {
      await t.api('POST', '/api/v1/products', { key: pk, name: 'x', dialect: 'iothub' });
      const { body } = await t.api<{ secret: string }>('POST', `/api/v1/products/${pk}/devices`, {
        name: 'd1',
      });
      const device = await connectDevice(
        t.mqttUrl,
        'plain',
        { productKey: pk, deviceName: 'd1' },
        body.secret,
      );
      await device.publishAsync(`update_status/${pk}/d1/m1`, '{"firmware_ver":"7.7.7"}', { qos: 1 });
      await eventually(async () => {
        const metrics = await (await fetch(`${t.server.httpUrl}/metrics`)).text();
        return /aloft_device_messages_total\{type="version"\} 1/.test(metrics);
      }, 'the message to reach the ingest');
      await device.endAsync(true);
      await t.server.close();

      const store = await openStore({ url: join(t.config.dataDir, 'aloft.db') });
      const rows = await store.db.selectFrom('device_versions').select(['module', 'version']).execute();
      await store.close();
      expect(rows).toEqual([{ module: 'firmware', version: '7.7.7' }]);
    } finally {
      await rm(t.config.dataDir, { recursive: true, force: true });
    }
  });
});
