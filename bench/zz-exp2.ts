import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deviceCredentials } from '@aloft/protocol';
import mqtt from 'mqtt';
import { openStore } from '../packages/server/src/store/database.js';
import { startRawEmbedded } from './lib/brokers.js';
import { BENCH_SECRET, seedDevices, seedProduct } from './lib/seed.js';
import { uniqueKey } from './lib/services.js';

const dir = await mkdtemp(join(tmpdir(), 'zz-'));
const store = await openStore({ url: join(dir, 'a.db') });
const key = uniqueKey();
await seedProduct(store.db, key, 'aliyun');
await seedDevices(store.db, key, ['d1']);
const target = await startRawEmbedded(store, new Set([key]));
for (let i = 0; i < 5; i++) {
  const t = performance.now();
  const c = await mqtt.connectAsync(target.url, { ...deviceCredentials('aliyun', { productKey: key, deviceName: 'd1' }, BENCH_SECRET), reconnectPeriod: 0 });
  const t1 = performance.now();
  await c.subscribeAsync([`/ota/device/upgrade/${key}/d1`], { qos: 1 });
  const t2 = performance.now();
  await c.publishAsync(`/ota/device/inform/${key}/d1`, '{"id":"1","params":{"version":"1"}}', { qos: 1 });
  const t3 = performance.now();
  await c.endAsync();
  console.log('connect', (t1 - t).toFixed(1), 'sub', (t2 - t1).toFixed(1), 'pub', (t3 - t2).toFixed(1));
}
await target.close();
process.exit(0);
