import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../packages/server/src/store/database.js';
import { startRawEmbedded } from './lib/brokers.js';
import { Fleet, type FleetDevice } from './lib/fleet.js';
import { seedDevices, seedProduct } from './lib/seed.js';
import { uniqueKey } from './lib/services.js';

const n = Number(process.argv[2] ?? 3000);
const dir = await mkdtemp(join(tmpdir(), 'zz-'));
const store = await openStore({ url: join(dir, 'a.db') });
const key = uniqueKey();
let t = performance.now();
await seedProduct(store.db, key, 'aliyun');
const names = Array.from({ length: n }, (_, i) => `d${i}`);
await seedDevices(store.db, key, names);
console.log('seed', performance.now() - t);
const target = await startRawEmbedded(store, new Set([key]));
const fleet = Fleet.start();
const devices: FleetDevice[] = names.map((deviceName) => ({ dialect: 'aliyun', productKey: key, deviceName, module: 'default' }));
const c = await fleet.connect({ url: target.url, devices, keepalive: 60, concurrency: Number(process.argv[3] ?? 200) });
console.log('connect', c);
for (const w of [1, 10, 100]) {
  const { messages } = await fleet.prepare({ kind: 'report', tag: 'x', count: 10, window: w });
  const base = target.received();
  const cpu = process.cpuUsage();
  t = performance.now();
  const r = await fleet.go();
  while (target.received() - base < messages) await new Promise((r) => setTimeout(r, 2));
  const u = process.cpuUsage(cpu);
  console.log('window', w, messages, 'rate', Math.round((messages / (target.lastAt() - t)) * 1000), 'go ms', Math.round(r.ms), 'child cpu', Math.round(r.cpuMs), 'cpu ms parent', (u.user + u.system) / 1000);
}
await fleet.disconnect();
await fleet.stop();
await target.close();
await store.close();
process.exit(0);
