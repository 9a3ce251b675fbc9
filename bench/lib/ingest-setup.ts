import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_MODULE, type Dialect } from '@aloft/protocol';
import type { Kysely } from 'kysely';
import { openStore } from '../../packages/server/src/store/database.js';
import type { Database } from '../../packages/server/src/store/schema.js';
import { type RawTarget, startRawEmbedded, startRawExternal } from './brokers.js';
import type { FleetDevice } from './fleet.js';
import { MOSQUITTO_BINARY, mosquittoInstalled, type PrivateMosquitto, startMosquitto } from './mosquitto.js';
import { note } from './report.js';
import { seedDevices, seedFirmware, seedProduct, seedRunningJob } from './seed.js';
import { benchSchema, dropSchema, POSTGRES_URL, reachable, uniqueKey } from './services.js';

export type ModeName = 'embedded' | 'scaled';

/** Where the server keeps its data and which broker devices reach, for one mode. */
export interface Mode {
  name: ModeName;
  label: string;
  dataDir: string;
  store: { url: string; schema?: string };
  server: { mqttUrl?: string; mqttShareGroup?: string };
  /** An external broker: devices stay connected to it while raw and server subscribers take turns. */
  sharedBrokerUrl?: string;
  /** The private Mosquitto's configuration, for the record. */
  brokerConfig?: string;
  startRaw(keys: ReadonlySet<string>): Promise<RawTarget>;
  cleanup(): Promise<void>;
}

export interface Product {
  key: string;
  dialect: Dialect;
  module: string;
  deviceIds: number[];
  /** The devices that take part in the upgrade workload. */
  upgradingIds: number[];
}

/** IotHub names its module in the payload (`firmware_ver`); Aliyun and Tencent devices report the default one. */
const MODULE_OF: Record<Dialect, string> = {
  aliyun: DEFAULT_MODULE,
  tencent: DEFAULT_MODULE,
  iothub: 'firmware',
};
export const MODULES = [DEFAULT_MODULE, 'firmware'];

/** `mqttUrl`: an existing broker for scaled mode instead of a private Mosquitto. */
export async function makeMode(name: ModeName, mqttUrl?: string): Promise<Mode | undefined> {
  const dataDir = await mkdtemp(join(tmpdir(), `aloft-bench-ingest-${name}-`));
  if (name === 'embedded') {
    const url = join(dataDir, 'aloft.db');
    return {
      name,
      label: 'embedded (aedes + SQLite)',
      dataDir,
      store: { url },
      server: {},
      async startRaw(keys) {
        const store = await openStore({ url });
        const target = await startRawEmbedded(store, keys);
        return { ...target, close: () => target.close().then(() => store.close()) };
      },
      cleanup: () => rm(dataDir, { recursive: true, force: true }),
    };
  }
  if (!(await reachable(POSTGRES_URL, 5432))) {
    note(`scaled mode skipped: PostgreSQL (${POSTGRES_URL}) is not reachable`);
    await rm(dataDir, { recursive: true, force: true });
    return undefined;
  }
  // A Mosquitto of our own unless told otherwise: the shared one carries other runs' traffic and sessions, and with
  // Mosquitto's default max_queued_messages (1,000) it drops QoS 1 messages to a subscriber that falls behind —
  // the run would measure losses, not throughput (see docs/benchmarks.md).
  let mosquitto: PrivateMosquitto | undefined;
  if (!mqttUrl) {
    if (!mosquittoInstalled()) {
      note(`scaled mode skipped: ${MOSQUITTO_BINARY} is not installed (or pass --mqtt <url>)`);
      await rm(dataDir, { recursive: true, force: true });
      return undefined;
    }
    mosquitto = await startMosquitto({ maxQueued: 0 });
  }
  const brokerUrl = mqttUrl ?? mosquitto!.url;
  const schema = benchSchema();
  return {
    name,
    label: 'scaled (Mosquitto + PostgreSQL)',
    dataDir,
    store: { url: POSTGRES_URL, schema },
    server: { mqttUrl: brokerUrl, mqttShareGroup: `bench${schema.slice(-6)}` },
    sharedBrokerUrl: brokerUrl,
    ...(mosquitto ? { brokerConfig: mosquitto.config.replace(/listener \d+/, 'listener <port>') } : {}),
    startRaw: (keys) => startRawExternal(brokerUrl, keys),
    async cleanup() {
      await mosquitto?.stop();
      await dropSchema(POSTGRES_URL, schema);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** One product per dialect with `perDialect` devices each. Product keys are random: other runs share Mosquitto. */
export async function seedFleet(
  mode: Mode,
  perDialect: number,
  upgradingEvery: number,
): Promise<{ products: Product[]; devices: FleetDevice[] }> {
  const store = await openStore(mode.store);
  const products: Product[] = [];
  const devices: FleetDevice[] = [];
  try {
    for (const dialect of ['aliyun', 'tencent', 'iothub'] as const) {
      const key = uniqueKey(10);
      await seedProduct(store.db, key, dialect);
      const names = Array.from({ length: perDialect }, (_, i) => `dev${String(i).padStart(6, '0')}`);
      const deviceIds = await seedDevices(store.db, key, names);
      const module = MODULE_OF[dialect];
      const upgrading = (i: number) => i % upgradingEvery === 0;
      products.push({
        key,
        dialect,
        module,
        deviceIds,
        upgradingIds: deviceIds.filter((_, i) => upgrading(i)),
      });
      names.forEach((deviceName, i) => {
        devices.push({ dialect, productKey: key, deviceName, module, upgrading: upgrading(i) });
      });
    }
  } finally {
    await store.close();
  }
  return { products, devices };
}

/** One running job per product with its upgrading devices already `notified`: the devices' reports move them. */
export async function seedUpgradeRound(
  db: Kysely<Database>,
  products: readonly Product[],
  target: string,
): Promise<number[]> {
  const jobIds: number[] = [];
  const now = Date.now();
  for (const product of products) {
    const firmwareId = await seedFirmware(db, product.key, product.module, target);
    const jobId = await seedRunningJob(
      db,
      {
        productKey: product.key,
        firmwareId,
        module: product.module,
        targetVersion: target,
        selected: product.upgradingIds.length,
        startedAt: now,
      },
      (id) =>
        product.upgradingIds.map((deviceId) => ({
          job_id: id,
          device_id: deviceId,
          module: product.module,
          target_version: target,
          source_version: '1.0.0',
          state: 'notified',
          attempt: 1,
          group_index: 0,
          active: 1,
          queued_at: now,
          notified_at: now,
          last_activity_at: now,
        })),
    );
    jobIds.push(jobId);
  }
  return jobIds;
}

/**
 * Waits until `count()` (an in-memory counter: checking it costs nothing to what is measured) reaches `target`,
 * looking every `everyMs`. Gives up once it has not moved for `stallMs`: messages were lost, or the server stopped.
 */
export async function pollUntil(count: () => number, target: number, everyMs: number, stallMs: number) {
  let last = -1;
  let movedAt = performance.now();
  for (;;) {
    const value = count();
    const now = performance.now();
    if (value >= target) return { at: now, value, complete: true };
    if (value !== last) {
      last = value;
      movedAt = now;
    } else if (now - movedAt > stallMs) return { at: movedAt, value, complete: false };
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export async function countOf(query: {
  executeTakeFirstOrThrow(): Promise<{ n: number | string | bigint }>;
}): Promise<number> {
  return Number((await query.executeTakeFirstOrThrow()).n);
}
