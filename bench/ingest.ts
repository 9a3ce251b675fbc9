/**
 * Ingest benchmark: device messages fully processed (decoded, through the upgrade state machine, written) per
 * second, against the same broker's raw throughput to a subscriber that only counts, measured in the same run.
 *
 *   npx tsx --conditions=source bench/ingest.ts [--devices 3000] [--reports 10] [--progress 10] [--window 10]
 *                                               [--rounds 2] [--modes embedded,scaled] [--profile <dir>]
 *
 * Modes: `embedded` (aedes in the server process + SQLite) and `scaled` (Mosquitto + PostgreSQL, from
 * ALOFT_TEST_MQTT_URL / ALOFT_TEST_POSTGRES_URL, default 127.0.0.1; skipped with a note when unreachable).
 * Devices (a third each Aliyun, Tencent, IotHub) run in a child process; the server runs in this one.
 * Workloads, per device, published at QoS 1 with `--window` publishes awaiting PUBACK:
 *   report  — `--reports` version reports, no upgrade active (telemetry: batched upsert of versions + presence);
 *   upgrade — `--progress` download-progress reports then the target version, each one a state change of the
 *             device's upgrade (compare-and-set UPDATE + history row).
 * "Processed" ends when the database shows every device's last message applied (polled every 20 ms); "raw" ends
 * when the counting subscriber has every message. Rounds alternate raw/server order; the best of each is compared.
 * With --profile, one extra (unmeasured) server round per mode runs under the V8 CPU profiler.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_MODULE, type Dialect } from '@aloft/protocol';
import type { Kysely } from 'kysely';
import { loadConfig } from '../packages/server/src/config/config.js';
import { startServer } from '../packages/server/src/main.js';
import { openStore } from '../packages/server/src/store/database.js';
import type { Database } from '../packages/server/src/store/schema.js';
import {
  externalClientId,
  purgeSession,
  type RawTarget,
  startRawEmbedded,
  startRawExternal,
} from './lib/brokers.js';
import { type ProfileSummary, profilePath, startCpuProfile } from './lib/cpu-profile.js';
import { Fleet, type FleetDevice, type Workload } from './lib/fleet.js';
import { delta, scrape } from './lib/metrics.js';
import { note, printJson, printTable, round } from './lib/report.js';
import { seedDevices, seedFirmware, seedProduct, seedRunningJob, seedUpgrades } from './lib/seed.js';
import { benchSchema, dropSchema, MQTT_URL, POSTGRES_URL, reachable, uniqueKey } from './lib/services.js';

const { values: opts } = parseArgs({
  options: {
    devices: { type: 'string', default: '3000' },
    reports: { type: 'string', default: '10' },
    progress: { type: 'string', default: '10' },
    window: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '2' },
    modes: { type: 'string', default: 'embedded,scaled' },
    profile: { type: 'string' },
  },
});
const DEVICES_PER_DIALECT = Math.ceil(Number(opts.devices) / 3);
const ROUNDS = Number(opts.rounds);
const WINDOW = Number(opts.window);
const STALL_MS = 15_000;
const ADMIN_TOKEN = 'bench-admin-token-0123456789';
const MODULE_OF: Record<Dialect, string> = {
  aliyun: DEFAULT_MODULE,
  tencent: DEFAULT_MODULE,
  iothub: 'firmware',
};

type ModeName = 'embedded' | 'scaled';
type WorkloadKind = Workload['kind'];

interface Product {
  key: string;
  dialect: Dialect;
  module: string;
  deviceIds: number[];
}

interface Mode {
  name: ModeName;
  label: string;
  dataDir: string;
  store: { url: string; schema?: string };
  server: { mqttUrl?: string; mqttShareGroup?: string };
  startRaw(keys: ReadonlySet<string>): Promise<RawTarget>;
  cleanup(): Promise<void>;
}

interface PhaseResult {
  mode: ModeName;
  workload: WorkloadKind;
  phase: 'raw' | 'server';
  round: number;
  messages: number;
  /** From the first publish to the last message counted (raw) or written (server). */
  ms: number;
  perSecond: number;
  /** How long the fleet took to get every PUBACK. */
  publishMs: number;
  /** CPU time of this process (broker in embedded mode + server) per message, µs. */
  cpuMicrosPerMessage: number;
  complete: boolean;
  /** Server: state changes recorded vs expected (upgrade workload). */
  eventsWritten?: number;
  meanBatch?: number;
  meanBatchWriteMs?: number;
}

const workloads = (r: number): Workload[] => [
  { kind: 'report', tag: `r${r}`, count: Number(opts.reports), window: WINDOW },
  { kind: 'upgrade', tag: `u${r}`, count: Number(opts.progress), window: WINDOW },
];

async function makeMode(name: ModeName): Promise<Mode | undefined> {
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
  if (!(await reachable(POSTGRES_URL, 5432)) || !(await reachable(MQTT_URL, 1883))) {
    note(`scaled mode skipped: PostgreSQL (${POSTGRES_URL}) or Mosquitto (${MQTT_URL}) is not reachable`);
    await rm(dataDir, { recursive: true, force: true });
    return undefined;
  }
  const schema = benchSchema();
  return {
    name,
    label: 'scaled (Mosquitto + PostgreSQL)',
    dataDir,
    store: { url: POSTGRES_URL, schema },
    server: { mqttUrl: MQTT_URL, mqttShareGroup: `bench${schema.slice(-6)}` },
    startRaw: (keys) => startRawExternal(MQTT_URL, keys),
    async cleanup() {
      await dropSchema(POSTGRES_URL, schema);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

async function seedFleet(mode: Mode): Promise<{ products: Product[]; devices: FleetDevice[] }> {
  const store = await openStore(mode.store);
  const products: Product[] = [];
  const devices: FleetDevice[] = [];
  try {
    for (const dialect of ['aliyun', 'tencent', 'iothub'] as const) {
      const key = uniqueKey(10);
      await seedProduct(store.db, key, dialect);
      const names = Array.from({ length: DEVICES_PER_DIALECT }, (_, i) => `dev${String(i).padStart(6, '0')}`);
      const deviceIds = await seedDevices(store.db, key, names);
      products.push({ key, dialect, module: MODULE_OF[dialect], deviceIds });
      for (const deviceName of names)
        devices.push({ dialect, productKey: key, deviceName, module: MODULE_OF[dialect] });
    }
  } finally {
    await store.close();
  }
  return { products, devices };
}

/** One running job per product with every device's upgrade already `notified`: the devices' reports move them. */
async function seedUpgradeRound(
  db: Kysely<Database>,
  products: Product[],
  target: string,
): Promise<number[]> {
  const jobIds: number[] = [];
  const now = Date.now();
  for (const product of products) {
    const firmwareId = await seedFirmware(db, product.key, product.module, target);
    const jobId = await seedRunningJob(db, {
      productKey: product.key,
      firmwareId,
      module: product.module,
      targetVersion: target,
      selected: product.deviceIds.length,
      startedAt: now,
    });
    await seedUpgrades(
      db,
      product.deviceIds.map((deviceId) => ({
        job_id: jobId,
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

/** Polls until `check` reaches `target`; gives up when it has not moved for STALL_MS. */
async function pollUntil(check: () => Promise<number>, target: number, everyMs: number) {
  let last = -1;
  let movedAt = performance.now();
  for (;;) {
    const value = await check();
    const now = performance.now();
    if (value >= target) return { at: now, value, complete: true };
    if (value !== last) {
      last = value;
      movedAt = now;
    } else if (now - movedAt > STALL_MS) return { at: movedAt, value, complete: false };
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

async function countOf(query: { executeTakeFirstOrThrow(): Promise<{ n: number | string | bigint }> }) {
  return Number((await query.executeTakeFirstOrThrow()).n);
}

async function rawPhase(mode: Mode, fleet: Fleet, devices: FleetDevice[], keys: Set<string>, r: number) {
  const results: PhaseResult[] = [];
  const target = await mode.startRaw(keys);
  try {
    const connected = await fleet.connect({ url: target.url, devices, keepalive: 60, concurrency: 200 });
    if (connected.failed)
      throw new Error(`${connected.failed} devices could not connect: ${connected.firstError}`);
    note(`${mode.name}: ${devices.length} devices connected in ${Math.round(connected.ms)} ms`);
    for (const workload of workloads(r)) {
      const { messages } = await fleet.prepare(workload);
      const base = target.received();
      const cpu = process.cpuUsage();
      const t0 = performance.now();
      const published = fleet.go();
      const done = await pollUntil(async () => target.received() - base, messages, 2);
      const end = done.complete ? target.lastAt() : done.at;
      const cpuUsed = process.cpuUsage(cpu);
      const { ms: publishMs } = await published;
      results.push({
        mode: mode.name,
        workload: workload.kind,
        phase: 'raw',
        round: r,
        messages,
        ms: end - t0,
        perSecond: ((target.received() - base) / (end - t0)) * 1000,
        publishMs,
        cpuMicrosPerMessage: (cpuUsed.user + cpuUsed.system) / messages,
        complete: done.complete,
      });
      note(`${mode.name} raw ${workload.kind} r${r}: ${Math.round(results.at(-1)!.perSecond)} msg/s`);
    }
    await fleet.disconnect();
  } finally {
    await target.close();
  }
  return results;
}

async function serverPhase(
  mode: Mode,
  fleet: Fleet,
  devices: FleetDevice[],
  products: Product[],
  r: number,
  profile?: string,
) {
  const results: PhaseResult[] = [];
  const profiles: { workload: WorkloadKind; summary: ProfileSummary; file: string }[] = [];
  const config = loadConfig({
    env: {},
    overrides: {
      httpHost: '127.0.0.1',
      httpPort: 0,
      mqttHost: '127.0.0.1',
      mqttPort: 0,
      dataDir: mode.dataDir,
      databaseUrl: mode.store.url,
      ...(mode.store.schema ? { databaseSchema: mode.store.schema } : {}),
      ...mode.server,
      adminToken: ADMIN_TOKEN,
      logLevel: 'error',
    },
  });
  const server = await startServer(config);
  const db = server.store.db;
  try {
    const connected = await fleet.connect({
      url: server.mqttAddress,
      devices,
      keepalive: 60,
      concurrency: 200,
    });
    if (connected.failed)
      throw new Error(`${connected.failed} devices could not connect: ${connected.firstError}`);
    note(`${mode.name}: ${devices.length} devices connected in ${Math.round(connected.ms)} ms`);
    for (const workload of workloads(r)) {
      const jobIds = workload.kind === 'upgrade' ? await seedUpgradeRound(db, products, workload.tag) : [];
      const { messages } = await fleet.prepare(workload);
      const before = await scrape(server.httpUrl);
      const finalVersion = workload.kind === 'report' ? `${workload.tag}.${workload.count}` : workload.tag;
      const check =
        workload.kind === 'report'
          ? () =>
              countOf(
                db
                  .selectFrom('device_versions')
                  .select((eb) => eb.fn.countAll<number>().as('n'))
                  .where('module', 'in', [DEFAULT_MODULE, 'firmware'])
                  .where('version', '=', finalVersion),
              )
          : () =>
              countOf(
                db
                  .selectFrom('upgrades')
                  .select((eb) => eb.fn.countAll<number>().as('n'))
                  .where('job_id', 'in', jobIds)
                  .where('state', '=', 'succeeded'),
              );
      const stopProfile = profile ? await startCpuProfile() : undefined;
      const cpu = process.cpuUsage();
      const t0 = performance.now();
      const published = fleet.go();
      const done = await pollUntil(check, devices.length, 20);
      const cpuUsed = process.cpuUsage(cpu);
      const { ms: publishMs } = await published;
      if (stopProfile && profile) {
        const file = profilePath(profile, `ingest-${mode.name}-${workload.kind}`);
        profiles.push({ workload: workload.kind, summary: await stopProfile(file), file });
      }
      const after = await scrape(server.httpUrl);
      const batches = delta(before, after, 'aloft_ingest_batch_size_count');
      const eventsWritten =
        workload.kind === 'upgrade'
          ? await countOf(
              db
                .selectFrom('upgrade_events')
                .select((eb) => eb.fn.countAll<number>().as('n'))
                .where('job_id', 'in', jobIds),
            )
          : undefined;
      if (!done.complete) {
        const states =
          workload.kind === 'upgrade'
            ? await db
                .selectFrom('upgrades')
                .select(['state', (eb) => eb.fn.countAll<number>().as('n')])
                .where('job_id', 'in', jobIds)
                .groupBy('state')
                .execute()
            : [];
        note(
          `incomplete: messages in ${delta(before, after, 'aloft_device_messages_total')}, batches ${batches}, ` +
            `upgrade states ${JSON.stringify(states)}, changes ${eventsWritten ?? '–'}`,
        );
      }
      results.push({
        mode: mode.name,
        workload: workload.kind,
        phase: 'server',
        round: r,
        messages,
        ms: done.at - t0,
        perSecond: done.complete ? (messages / (done.at - t0)) * 1000 : 0,
        publishMs,
        cpuMicrosPerMessage: (cpuUsed.user + cpuUsed.system) / messages,
        complete: done.complete,
        ...(eventsWritten !== undefined ? { eventsWritten } : {}),
        meanBatch: batches ? delta(before, after, 'aloft_ingest_batch_size_sum') / batches : 0,
        meanBatchWriteMs: batches
          ? (delta(before, after, 'aloft_ingest_batch_write_seconds_sum') / batches) * 1000
          : 0,
      });
      note(
        `${mode.name} server ${workload.kind} r${r}: ${Math.round(results.at(-1)!.perSecond)} msg/s` +
          (done.complete ? '' : ` — INCOMPLETE: ${done.value} of ${devices.length} devices`),
      );
    }
    await fleet.disconnect();
  } finally {
    const clientId = mode.server.mqttUrl ? externalClientId(server) : undefined;
    await server.close();
    if (clientId && mode.server.mqttUrl) await purgeSession(mode.server.mqttUrl, clientId);
  }
  return { results, profiles };
}

async function main() {
  const names = (opts.modes ?? '').split(',').filter(Boolean) as ModeName[];
  const all: PhaseResult[] = [];
  const profiles: { mode: ModeName; workload: WorkloadKind; summary: ProfileSummary; file: string }[] = [];
  const labels: Partial<Record<ModeName, string>> = {};
  const fleet = Fleet.start();
  try {
    for (const name of names) {
      const mode = await makeMode(name);
      if (!mode) continue;
      labels[name] = mode.label;
      try {
        note(`${mode.label}: seeding ${DEVICES_PER_DIALECT * 3} devices`);
        const { products, devices } = await seedFleet(mode);
        const keys = new Set(products.map((p) => p.key));
        for (let r = 1; r <= ROUNDS; r++) {
          // Alternate the order so neither side always runs on a warmer (or more fragmented) process.
          if (r % 2 === 1) {
            all.push(...(await rawPhase(mode, fleet, devices, keys, r)));
            all.push(...(await serverPhase(mode, fleet, devices, products, r)).results);
          } else {
            all.push(...(await serverPhase(mode, fleet, devices, products, r)).results);
            all.push(...(await rawPhase(mode, fleet, devices, keys, r)));
          }
        }
        if (opts.profile) {
          const profiled = await serverPhase(mode, fleet, devices, products, ROUNDS + 1, opts.profile);
          profiles.push(...profiled.profiles.map((p) => ({ ...p, mode: name })));
        }
      } finally {
        await mode.cleanup();
      }
    }
  } finally {
    await fleet.stop();
  }
  report(all, profiles, labels);
}

function report(
  all: PhaseResult[],
  profiles: { mode: ModeName; workload: WorkloadKind; summary: ProfileSummary; file: string }[],
  labels: Partial<Record<ModeName, string>>,
) {
  printTable(
    'Every phase',
    [
      'mode',
      'workload',
      'phase',
      'round',
      'messages',
      'msg/s',
      'ms',
      'publish ms',
      'CPU µs/msg',
      'mean batch',
      'batch write ms',
      'complete',
    ],
    all.map((p) => [
      p.mode,
      p.workload,
      p.phase,
      p.round,
      p.messages,
      Math.round(p.perSecond),
      Math.round(p.ms),
      Math.round(p.publishMs),
      round(p.cpuMicrosPerMessage),
      p.meanBatch !== undefined ? round(p.meanBatch) : undefined,
      p.meanBatchWriteMs !== undefined ? round(p.meanBatchWriteMs, 2) : undefined,
      p.complete ? (p.eventsWritten !== undefined ? `yes (${p.eventsWritten} changes)` : 'yes') : 'NO',
    ]),
  );
  const summary: Record<string, unknown>[] = [];
  for (const mode of Object.keys(labels) as ModeName[]) {
    for (const workload of ['report', 'upgrade'] as const) {
      const best = (phase: 'raw' | 'server') =>
        Math.max(
          0,
          ...all
            .filter((p) => p.mode === mode && p.workload === workload && p.phase === phase)
            .map((p) => p.perSecond),
        );
      const raw = best('raw');
      const processed = best('server');
      const cpu = (phase: 'raw' | 'server') => {
        const runs = all.filter((p) => p.mode === mode && p.workload === workload && p.phase === phase);
        return Math.min(...runs.map((p) => p.cpuMicrosPerMessage));
      };
      summary.push({
        mode,
        workload,
        rawPerSecond: Math.round(raw),
        processedPerSecond: Math.round(processed),
        ratio: raw ? round(processed / raw, 3) : null,
        target: 0.5,
        met: raw ? processed / raw >= 0.5 : false,
        cpuMicrosPerMessageRaw: round(cpu('raw')),
        cpuMicrosPerMessageServer: round(cpu('server')),
      });
    }
  }
  printTable(
    `Ingest: best of ${ROUNDS} rounds, ${DEVICES_PER_DIALECT * 3} devices, window ${WINDOW} (target: processed ≥ 50 % of raw)`,
    [
      'mode',
      'workload',
      'raw msg/s (no-op subscriber)',
      'processed msg/s (written)',
      'processed / raw',
      'target met',
      'CPU µs/msg raw → server',
    ],
    summary.map((s) => [
      labels[s.mode as ModeName] ?? String(s.mode),
      String(s.workload),
      s.rawPerSecond as number,
      s.processedPerSecond as number,
      s.ratio === null ? undefined : `${round((s.ratio as number) * 100)} %`,
      s.met ? 'yes' : 'NO',
      `${s.cpuMicrosPerMessageRaw} → ${s.cpuMicrosPerMessageServer}`,
    ]),
  );
  for (const p of profiles) {
    printTable(
      `CPU profile, ${p.mode} ${p.workload} (${p.summary.totalMs} ms sampled; ${p.file}): self time by area`,
      ['area', 'ms', '%'],
      p.summary.areas.map((a) => [a.name, a.ms, a.percent]),
    );
    printTable(
      `CPU profile, ${p.mode} ${p.workload}: top functions by self time`,
      ['function', 'ms', '%'],
      p.summary.functions.slice(0, 15).map((f) => [f.name, f.ms, f.percent]),
    );
  }
  printJson('ingest', {
    options: {
      devices: DEVICES_PER_DIALECT * 3,
      reports: Number(opts.reports),
      progress: Number(opts.progress),
      window: WINDOW,
      rounds: ROUNDS,
    },
    summary,
    phases: all,
  });
}

await main();
// pg pools, mqtt clients and the fleet are closed; anything left (a stray timer) must not keep the run alive.
process.exit(0);
