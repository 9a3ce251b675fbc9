/**
 * Memory benchmark: resident memory of the Aloft server (embedded broker + SQLite) holding 10,000 connected idle
 * devices, per device, against the broker it embeds measured in the same run — bare aedes (no authentication, no
 * Aloft) holding the same connections — and, when installed, a private Mosquitto.
 *
 *   npx tsx bench/memory.ts [--devices 10000] [--profile <dir>]
 *
 * Each broker runs in a child process of its own (the Aloft server and bare aedes with --expose-gc, measured after
 * full collections); the devices run in another. Every device connects with its vendor's credentials, subscribes to
 * its task topics and reports its version, as the vendor SDKs do, then stays idle (keepalive 300 s).
 * Figures: RSS before the devices connect, with them connected, and the difference per device; and how long the
 * devices took to connect (100 at a time). With --profile, the Aloft server is CPU-profiled while they connect.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openStore } from '../packages/server/src/store/database.js';
import type { MemorySample, StartArgs } from './lib/broker-process.js';
import { Child } from './lib/child.js';
import { type ProfileSummary, profilePath } from './lib/cpu-profile.js';
import { Fleet, type FleetDevice } from './lib/fleet.js';
import { mosquittoInstalled, startMosquitto } from './lib/mosquitto.js';
import { MiB, note, printJson, printTable, round } from './lib/report.js';
import { seedDevices, seedProduct } from './lib/seed.js';
import { uniqueKey } from './lib/services.js';
import { ensureSourceConditions } from './lib/source-conditions.js';

const { values: opts } = parseArgs({
  options: { devices: { type: 'string', default: '10000' }, profile: { type: 'string' } },
});
const DEVICES = Number(opts.devices);
const SETTLE_MS = 3000;

interface Result {
  broker: string;
  before: MemorySample;
  after: MemorySample;
  connected: number;
  connectMs: number;
  profile?: { file: string; summary: ProfileSummary };
}

interface Target {
  url: string;
  memory(): Promise<MemorySample>;
  clients(): Promise<number>;
  stop(): Promise<void>;
  profileStart?(): Promise<void>;
  profileStop?(): Promise<{ file: string; summary: ProfileSummary } | undefined>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts a broker, measures it idle, connects the fleet, lets it settle, measures again. */
async function measure(
  fleet: Fleet,
  devices: FleetDevice[],
  broker: string,
  target: Target,
): Promise<Result> {
  try {
    await sleep(SETTLE_MS);
    const before = await target.memory();
    await target.profileStart?.();
    const connected = await fleet.connect({
      url: target.url,
      devices,
      keepalive: 300,
      concurrency: 100,
      reportVersion: '1.0.0',
    });
    if (connected.failed)
      throw new Error(`${connected.failed} devices could not connect: ${connected.firstError}`);
    note(`${broker}: ${devices.length} devices connected in ${Math.round(connected.ms)} ms`);
    const profile = await target.profileStop?.();
    // Version reports written, presence recorded, connection buffers drained.
    await sleep(SETTLE_MS);
    const after = await target.memory();
    const clients = await target.clients();
    await fleet.disconnect();
    return {
      broker,
      before,
      after,
      connected: clients,
      connectMs: connected.ms,
      ...(profile ? { profile } : {}),
    };
  } finally {
    await target.stop();
  }
}

function nodeBroker(kind: StartArgs['kind'], dataDir: string) {
  const child = Child.start(new URL('./lib/broker-process.ts', import.meta.url), ['--expose-gc']);
  return {
    async start(): Promise<Target> {
      const { url } = await child.call<{ url: string }>('start', { kind, dataDir } satisfies StartArgs);
      const profileDir = kind === 'aloft' ? opts.profile : undefined;
      return {
        url,
        memory: () => child.call<MemorySample>('memory'),
        clients: () => child.call<number>('clients'),
        async stop() {
          await child.call('close');
          await child.stop();
        },
        ...(profileDir
          ? {
              profileStart: () => child.call<void>('profileStart'),
              async profileStop() {
                const file = profilePath(profileDir, 'memory-aloft-connect');
                return { file, summary: await child.call<ProfileSummary>('profileStop', file) };
              },
            }
          : {}),
      };
    },
  };
}

async function main() {
  const dataDir = await mkdtemp(join(tmpdir(), 'aloft-bench-memory-'));
  const fleet = Fleet.start();
  const results: Result[] = [];
  try {
    const productKey = uniqueKey(10);
    const names = Array.from({ length: DEVICES }, (_, i) => `dev${String(i).padStart(6, '0')}`);
    const store = await openStore({ url: join(dataDir, 'aloft.db') });
    await seedProduct(store.db, productKey, 'aliyun');
    await seedDevices(store.db, productKey, names);
    await store.close();
    const devices: FleetDevice[] = names.map((deviceName) => ({
      dialect: 'aliyun',
      productKey,
      deviceName,
      module: 'default',
    }));

    results.push(
      await measure(
        fleet,
        devices,
        'Aloft (embedded aedes + SQLite)',
        await nodeBroker('aloft', dataDir).start(),
      ),
    );
    results.push(
      await measure(
        fleet,
        devices,
        'bare aedes (same Node, no Aloft)',
        await nodeBroker('aedes', dataDir).start(),
      ),
    );
    if (mosquittoInstalled()) {
      const mosquitto = await startMosquitto();
      const rss = async (): Promise<MemorySample> => ({ rss: mosquitto.rss(), heapUsed: 0, external: 0 });
      results.push(
        await measure(fleet, devices, 'Mosquitto 2 (private instance)', {
          url: mosquitto.url,
          memory: rss,
          clients: async () => DEVICES,
          stop: () => mosquitto.stop(),
        }),
      );
    } else note('mosquitto is not installed: its row is skipped');
  } finally {
    await fleet.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
  const perDevice = (r: Result, key: keyof MemorySample) => (r.after[key] - r.before[key]) / DEVICES;
  const aloft = results[0]!;
  const aedes = results[1];
  printTable(
    `Memory with ${DEVICES.toLocaleString('en-US')} idle devices connected (RSS after full GC; KiB per device)`,
    [
      'broker',
      'RSS idle MiB',
      'RSS with devices MiB',
      'KiB per device (RSS)',
      'KiB per device (JS heap)',
      '÷ bare aedes',
    ],
    results.map((r) => [
      r.broker,
      round(r.before.rss / MiB),
      round(r.after.rss / MiB),
      round(perDevice(r, 'rss') / 1024),
      r.after.heapUsed ? round(perDevice(r, 'heapUsed') / 1024) : undefined,
      aedes ? `${round(perDevice(r, 'rss') / perDevice(aedes, 'rss'), 2)}×` : undefined,
    ]),
  );
  printTable(
    `Connecting ${DEVICES.toLocaleString('en-US')} devices, 100 at a time (each: CONNECT, SUBSCRIBE, one version report)`,
    ['broker', 'seconds', 'connections/s'],
    results.map((r) => [r.broker, round(r.connectMs / 1000), Math.round(DEVICES / (r.connectMs / 1000))]),
  );
  for (const r of results) {
    if (!r.profile) continue;
    printTable(
      `CPU profile of ${r.broker} while the devices connect (${r.profile.summary.totalMs} ms sampled; ${r.profile.file})`,
      ['function', 'ms', '%'],
      r.profile.summary.functions.slice(0, 15).map((f) => [f.name, f.ms, f.percent]),
    );
  }
  printJson('memory', {
    devices: DEVICES,
    results: results.map((r) => ({
      broker: r.broker,
      rssIdle: r.before.rss,
      rssConnected: r.after.rss,
      bytesPerDevice: Math.round(perDevice(r, 'rss')),
      heapBytesPerDevice: r.after.heapUsed ? Math.round(perDevice(r, 'heapUsed')) : null,
      clientsSeenByBroker: r.connected,
      connectMs: Math.round(r.connectMs),
      connectionsPerSecond: Math.round(DEVICES / (r.connectMs / 1000)),
    })),
    aloftOverBareAedes: aedes ? round(perDevice(aloft, 'rss') / perDevice(aedes, 'rss'), 2) : null,
  });
}

ensureSourceConditions();
await main();
process.exit(0);
