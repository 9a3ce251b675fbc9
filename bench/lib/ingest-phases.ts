import type { IngestBatchWritten } from '../../packages/server/src/app/ingest/ingest-batch.js';
import { loadConfig } from '../../packages/server/src/config/config.js';
import { type RunningServer, startServer } from '../../packages/server/src/main.js';
import { externalClientId, purgeSession, startRawExternal } from './brokers.js';
import { type ProfileSummary, profilePath, startCpuProfile } from './cpu-profile.js';
import type { Fleet, FleetDevice, Workload } from './fleet.js';
import { machineCpu, machineCpuSince } from './ingest-machine-cpu.js';
import {
  countOf,
  MODULES,
  type Mode,
  type ModeName,
  type Product,
  pollUntil,
  seedUpgradeRound,
} from './ingest-setup.js';
import { delta, scrape } from './metrics.js';
import { startMosquitto } from './mosquitto.js';
import { note } from './report.js';

export interface PhaseResult {
  mode: ModeName;
  workload: Workload['kind'];
  phase: 'raw' | 'server';
  round: number;
  messages: number;
  /** From the first publish to the last message counted (raw) or written and handled (server). */
  ms: number;
  perSecond: number;
  /** How long the fleet took to get every PUBACK, and the CPU it spent per message (the load generator's cost). */
  publishMs: number;
  publisherCpuMicrosPerMessage: number;
  /** CPU of this process (the embedded broker and/or the server) per message. */
  cpuMicrosPerMessage: number;
  /** The whole machine (Linux): how busy its cores were, and its CPU per message (see ingest-machine-cpu.ts). */
  machineBusyPercent?: number;
  machineCpuMicrosPerMessage?: number;
  /** Every message counted; for the server, also confirmed by the database (see `measureServer`). */
  complete: boolean;
  /** Server, upgrade workload: state changes recorded (one per message when nothing is lost). */
  changesWritten?: number;
  meanBatch?: number;
  meanBatchWriteMs?: number;
  /** Server: the `ingestConcurrency` it ran with (undefined: the server's default for the mode's database). */
  concurrency?: number;
}

export interface PhaseContext {
  mode: Mode;
  fleet: Fleet;
  devices: FleetDevice[];
  products: Product[];
  workloads: Workload[];
  round: number;
  stallMs: number;
  /** Directory for .cpuprofile files: profile the server while it works. */
  profileDir?: string;
  /** Server config for the ingest (defaults when absent). */
  ingest?: { ingestBatchMax?: number; ingestBatchMs?: number; ingestConcurrency?: number };
}

export interface ProfileResult {
  mode: ModeName;
  workload: Workload['kind'];
  summary: ProfileSummary;
  file: string;
}

const ADMIN_TOKEN = 'bench-admin-token-0123456789';

async function connectFleet(ctx: PhaseContext, url: string): Promise<void> {
  const connected = await ctx.fleet.connect({ url, devices: ctx.devices, keepalive: 120, concurrency: 100 });
  if (connected.failed)
    throw new Error(`${connected.failed} devices could not connect: ${connected.firstError}`);
  note(`${ctx.mode.name}: ${ctx.devices.length} devices connected in ${Math.round(connected.ms)} ms`);
}

/** The same broker and traffic with a subscriber that only counts: the limit the server is compared with. */
export async function rawPhase(ctx: PhaseContext): Promise<PhaseResult[]> {
  const { mode, fleet } = ctx;
  const results: PhaseResult[] = [];
  const target = await mode.startRaw(new Set(ctx.products.map((p) => p.key)));
  try {
    if (!mode.sharedBrokerUrl) await connectFleet(ctx, target.url);
    for (const workload of ctx.workloads) {
      const { messages } = await fleet.prepare(workload);
      const base = target.received();
      const cpu = process.cpuUsage();
      const machine = machineCpu();
      const t0 = performance.now();
      const published = fleet.go();
      const done = await pollUntil(() => target.received() - base, messages, 2, ctx.stallMs);
      const end = done.complete ? target.lastAt() : done.at;
      const used = process.cpuUsage(cpu);
      const machineUsed = machineCpuSince(machine, messages);
      const publisher = await published;
      results.push({
        mode: mode.name,
        workload: workload.kind,
        phase: 'raw',
        round: ctx.round,
        messages,
        ms: end - t0,
        perSecond: ((target.received() - base) / (end - t0)) * 1000,
        publishMs: publisher.ms,
        publisherCpuMicrosPerMessage: (publisher.cpuMs * 1000) / messages,
        cpuMicrosPerMessage: (used.user + used.system) / messages,
        ...machineUsed,
        complete: done.complete,
      });
      note(`${mode.name} raw ${workload.kind} r${ctx.round}: ${Math.round(results.at(-1)!.perSecond)} msg/s`);
    }
    if (!mode.sharedBrokerUrl) await fleet.disconnect();
  } finally {
    await target.close();
  }
  return results;
}

/** The real server: devices' messages go through the gateway, the ingest batches and the upgrade state machine. */
export async function serverPhase(
  ctx: PhaseContext,
): Promise<{ results: PhaseResult[]; profiles: ProfileResult[] }> {
  const { mode, fleet } = ctx;
  const results: PhaseResult[] = [];
  const profiles: ProfileResult[] = [];
  const processed = processedCounter();
  const server = await startServer(
    loadConfig({
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
        ...ctx.ingest,
        adminToken: ADMIN_TOKEN,
        logLevel: 'error',
      },
    }),
    { onIngestBatch: processed.batchWritten },
  );
  try {
    if (!mode.sharedBrokerUrl) await connectFleet(ctx, server.mqttAddress);
    for (const workload of ctx.workloads) {
      const result = await measureServer(ctx, server, processed, workload);
      results.push(result.phase);
      if (result.profile) profiles.push(result.profile);
    }
    if (!mode.sharedBrokerUrl) await fleet.disconnect();
  } finally {
    const clientId = mode.server.mqttUrl ? externalClientId(server) : undefined;
    await server.close();
    // The server's session is persistent (clean: false); left behind, Mosquitto would queue every later device
    // message of every run for it.
    if (clientId && mode.server.mqttUrl) await purgeSession(mode.server.mqttUrl, clientId);
  }
  return { results, profiles };
}

/**
 * Device messages the server reports written and handled (`ServerHooks.onIngestBatch`), counted in this process as
 * the raw phase's subscriber counts what it receives. A failed batch is not reported, so it never counts.
 */
function processedCounter() {
  let count = 0;
  let lastAt = 0;
  return {
    batchWritten({ messages }: IngestBatchWritten) {
      if (!messages) return;
      count += messages;
      lastAt = performance.now();
    },
    count: () => count,
    /** performance.now() of the last batch that applied messages. */
    lastAt: () => lastAt,
  };
}

type ProcessedCounter = ReturnType<typeof processedCounter>;

/**
 * Ends when the server's ingest has reported every published message written and handled (looked at every 2 ms,
 * like the raw phase's counter), and only then asks the database to agree: every device's last message applied
 * (each device's messages arrive in order, so all its earlier ones were) and, for upgrades, exactly one state
 * change recorded per message. Without both, the phase is incomplete and has no rate.
 */
async function measureServer(
  ctx: PhaseContext,
  server: RunningServer,
  processed: ProcessedCounter,
  workload: Workload,
) {
  const { mode, fleet } = ctx;
  const db = server.store.db;
  const jobIds = workload.kind === 'upgrade' ? await seedUpgradeRound(db, ctx.products, workload.tag) : [];
  const { messages } = await fleet.prepare(workload);
  const before = await scrape(server.httpUrl);
  const devicesDone = () =>
    workload.kind === 'report'
      ? countOf(
          db
            .selectFrom('device_versions')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('module', 'in', MODULES)
            .where('version', '=', `${workload.tag}.${workload.count}`),
        )
      : countOf(
          db
            .selectFrom('upgrades')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('job_id', 'in', jobIds)
            .where('state', '=', 'succeeded'),
        );
  const changes = () =>
    countOf(
      db
        .selectFrom('upgrade_events')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('job_id', 'in', jobIds),
    );
  const devices =
    workload.kind === 'report' ? ctx.devices.length : ctx.devices.filter((d) => d.upgrading).length;
  const base = processed.count();
  const stopProfile = ctx.profileDir ? await startCpuProfile() : undefined;
  const cpu = process.cpuUsage();
  const machine = machineCpu();
  const t0 = performance.now();
  const published = fleet.go();
  const counted = await pollUntil(() => processed.count() - base, messages, 2, ctx.stallMs);
  const end = counted.complete ? processed.lastAt() : counted.at;
  const used = process.cpuUsage(cpu);
  const machineUsed = machineCpuSince(machine, messages);
  const publisher = await published;
  let profile: ProfileResult | undefined;
  if (stopProfile && ctx.profileDir) {
    const file = profilePath(ctx.profileDir, `ingest-${mode.name}-${workload.kind}`);
    profile = { mode: mode.name, workload: workload.kind, summary: await stopProfile(file), file };
  }
  const done = await devicesDone();
  const changesWritten = workload.kind === 'upgrade' ? await changes() : undefined;
  const complete =
    counted.complete && done === devices && (changesWritten === undefined || changesWritten === messages);
  const after = await scrape(server.httpUrl);
  const batches = delta(before, after, 'aloft_ingest_batch_size_count');
  if (!complete) {
    const states =
      workload.kind === 'upgrade'
        ? await db
            .selectFrom('upgrades')
            .select(['state', (eb) => eb.fn.countAll<number>().as('n')])
            .where('job_id', 'in', jobIds)
            .groupBy('state')
            .execute()
        : [];
    note(`upgrade states: ${JSON.stringify(states)}`);
    note(
      `${mode.name} ${workload.kind}: INCOMPLETE, ${counted.value} of ${messages} messages reported written, ` +
        `${done} of ${devices} devices done in the database; ` +
        `messages in ${delta(before, after, 'aloft_device_messages_total')}, batches ${batches}, ` +
        `state changes ${changesWritten ?? '–'}`,
    );
  }
  const phase: PhaseResult = {
    mode: mode.name,
    workload: workload.kind,
    phase: 'server',
    round: ctx.round,
    messages,
    ms: end - t0,
    perSecond: complete ? (messages / (end - t0)) * 1000 : 0,
    publishMs: publisher.ms,
    publisherCpuMicrosPerMessage: (publisher.cpuMs * 1000) / messages,
    cpuMicrosPerMessage: (used.user + used.system) / messages,
    ...machineUsed,
    complete,
    ...(changesWritten !== undefined ? { changesWritten } : {}),
    ...(ctx.ingest?.ingestConcurrency !== undefined ? { concurrency: ctx.ingest.ingestConcurrency } : {}),
    meanBatch: batches ? delta(before, after, 'aloft_ingest_batch_size_sum') / batches : 0,
    meanBatchWriteMs: batches
      ? (delta(before, after, 'aloft_ingest_batch_write_seconds_sum') / batches) * 1000
      : 0,
  };
  const lanes = phase.concurrency !== undefined ? ` (${phase.concurrency} lanes)` : '';
  note(`${mode.name} server${lanes} ${workload.kind} r${ctx.round}: ${Math.round(phase.perSecond)} msg/s`);
  return { phase, profile };
}

/**
 * The same raw delivery through a Mosquitto with its default limits (20 in flight, 1,000 queued per client): what an
 * Aloft server subscribed to an untuned Mosquitto would receive of a burst it cannot take at once.
 */
export async function defaultLimitsDelivery(ctx: PhaseContext, workload: Workload) {
  const mosquitto = await startMosquitto();
  try {
    const target = await startRawExternal(mosquitto.url, new Set(ctx.products.map((p) => p.key)));
    try {
      await connectFleet(ctx, mosquitto.url);
      const { messages } = await ctx.fleet.prepare(workload);
      await ctx.fleet.go();
      await pollUntil(() => target.received(), messages, 5, 3000);
      await ctx.fleet.disconnect();
      const received = target.received();
      note(`Mosquitto with default limits delivered ${received} of ${messages} messages`);
      return { messages, received, lostPercent: ((messages - received) / messages) * 100 };
    } finally {
      await target.close();
    }
  } finally {
    await mosquitto.stop();
  }
}
