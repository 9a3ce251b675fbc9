/**
 * Ingest benchmark: device messages fully processed (decoded, through the upgrade state machine, written) per
 * second, against the same broker's raw throughput to a subscriber that only counts, measured in the same run.
 *
 *   npx tsx bench/ingest.ts [--devices 3000] [--upgrading <devices>] [--reports 10] [--progress 4] [--window 10]
 *       [--rounds 2] [--modes embedded,scaled] [--workloads report,upgrade] [--mqtt <url>] [--profile <dir>]
 *       [--batch-max <n>] [--batch-ms <ms>]   (the server's ingestBatchMax / ingestBatchMs; its defaults otherwise)
 *       [--concurrency <n>[,<n>…]]            (the server's ingestConcurrency; several values: one server phase
 *                                              each per round, compared with the same raw rounds)
 *
 * Modes: `embedded` (aedes in the server process + SQLite) and `scaled` (Mosquitto + PostgreSQL). Scaled mode uses
 * ALOFT_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test, a schema of its own, dropped after) and a
 * private Mosquitto on a free loopback port with `max_queued_messages 0` (or the broker at --mqtt); it is skipped
 * with a note when PostgreSQL or mosquitto is missing. It also records how much of a burst a Mosquitto with its
 * default limits delivers to one QoS 1 subscriber (the server's situation on an untuned broker).
 * Devices (a third each Aliyun, Tencent, IotHub) run in a child process; the server runs in this one.
 * Workloads, per device, published at QoS 1 with `--window` publishes awaiting PUBACK:
 *   report  — every device: `--reports` version reports, no upgrade active (telemetry: batched upsert of versions
 *             and presence);
 *   upgrade — `--upgrading` of the devices (evenly spread; default all of them, 15,000 messages with the defaults:
 *             a workload long enough to be a rate, not a warm-up): `--progress` download-progress reports then the
 *             target version, each one a state change of the device's upgrade (compare-and-set UPDATE + history row).
 * "Raw" ends when the counting subscriber has every message; "processed" when the server's ingest has reported
 * every message written and handled by the rollout engine (ServerHooks.onIngestBatch, counted in this process;
 * both counters looked at every 2 ms, neither phase queries anything while measured). The database must then
 * agree — every device's last message applied and, for upgrades, exactly one state change recorded per message —
 * or the phase counts as incomplete. Rounds alternate raw/server order; the best of each is compared.
 * With --profile, one extra (unmeasured) server round per mode runs under the V8 CPU profiler.
 */
import { parseArgs } from 'node:util';
import type { Workload } from './lib/fleet.js';
import { Fleet } from './lib/fleet.js';
import {
  defaultLimitsDelivery,
  type PhaseResult,
  type ProfileResult,
  rawPhase,
  serverPhase,
} from './lib/ingest-phases.js';
import { type ModeName, makeMode, seedFleet } from './lib/ingest-setup.js';
import { note, printJson, printTable, round } from './lib/report.js';
import { ensureSourceConditions } from './lib/source-conditions.js';

const { values: opts } = parseArgs({
  options: {
    devices: { type: 'string', default: '3000' },
    upgrading: { type: 'string' }, // default: every device
    reports: { type: 'string', default: '10' },
    progress: { type: 'string', default: '4' },
    workloads: { type: 'string', default: 'report,upgrade' },
    window: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '2' },
    modes: { type: 'string', default: 'embedded,scaled' },
    mqtt: { type: 'string' },
    'batch-max': { type: 'string' },
    'batch-ms': { type: 'string' },
    concurrency: { type: 'string' },
    profile: { type: 'string' },
  },
});
const PER_DIALECT = Math.ceil(Number(opts.devices) / 3);
const UPGRADING = Number(opts.upgrading ?? opts.devices);
const UPGRADING_EVERY = Math.max(1, Math.round(Number(opts.devices) / UPGRADING));
/** Devices `seedFleet` marks upgrading: every `UPGRADING_EVERY`-th of each dialect's. */
const UPGRADING_DEVICES = 3 * Math.ceil(PER_DIALECT / UPGRADING_EVERY);
const ROUNDS = Number(opts.rounds);
const WINDOW = Number(opts.window);
const PROGRESS = Math.min(100, Number(opts.progress));

const KINDS = (opts.workloads ?? '').split(',');
/** Server variants by ingest lanes; `undefined` = the server's default. */
const CONCURRENCY: (number | undefined)[] = opts.concurrency
  ? opts.concurrency.split(',').map(Number)
  : [undefined];
const workloads = (r: number): Workload[] =>
  (
    [
      { kind: 'report', tag: `r${r}`, count: Number(opts.reports), window: WINDOW },
      { kind: 'upgrade', tag: `u${r}`, count: PROGRESS, window: WINDOW },
    ] satisfies Workload[]
  ).filter((w) => KINDS.includes(w.kind));

async function main() {
  const all: PhaseResult[] = [];
  const profiles: ProfileResult[] = [];
  const labels: Partial<Record<ModeName, string>> = {};
  let brokerConfig: string | undefined;
  let defaultLimits: Awaited<ReturnType<typeof defaultLimitsDelivery>> | undefined;
  const fleet = Fleet.start();
  try {
    for (const name of (opts.modes ?? '').split(',').filter(Boolean) as ModeName[]) {
      const mode = await makeMode(name, opts.mqtt);
      if (!mode) continue;
      labels[name] = mode.label;
      try {
        note(`${mode.label}: seeding ${PER_DIALECT * 3} devices`);
        const { products, devices } = await seedFleet(mode, PER_DIALECT, UPGRADING_EVERY);
        if (mode.sharedBrokerUrl) {
          const connected = await fleet.connect({
            url: mode.sharedBrokerUrl,
            devices,
            keepalive: 120,
            concurrency: 100,
          });
          if (connected.failed)
            throw new Error(`${connected.failed} devices could not connect: ${connected.firstError}`);
          note(`${name}: ${devices.length} devices connected in ${Math.round(connected.ms)} ms`);
        }
        const ingest = {
          ...(opts['batch-max'] ? { ingestBatchMax: Number(opts['batch-max']) } : {}),
          ...(opts['batch-ms'] ? { ingestBatchMs: Number(opts['batch-ms']) } : {}),
        };
        const ctx = { mode, fleet, devices, products, stallMs: 15_000, ingest };
        for (let r = 1; r <= ROUNDS; r++) {
          const phase = { ...ctx, round: r, workloads: workloads(r) };
          // Alternate the order so neither side always runs on a warmer (or more fragmented) process.
          const raw = () => rawPhase(phase);
          // Variants alternate their order too.
          const variants = r % 2 === 1 ? CONCURRENCY : [...CONCURRENCY].reverse();
          const server = async () => {
            const results: PhaseResult[] = [];
            for (const c of variants) {
              // Versions (and upgrade targets) of their own: the database shows when this variant is done.
              const variant = {
                ...phase,
                workloads: phase.workloads.map((w) => (c ? { ...w, tag: `${w.tag}l${c}` } : w)),
                ingest: { ...ingest, ...(c ? { ingestConcurrency: c } : {}) },
              };
              results.push(...(await serverPhase(variant)).results);
            }
            return results;
          };
          all.push(
            ...(r % 2 === 1
              ? [...(await raw()), ...(await server())]
              : [...(await server()), ...(await raw())]),
          );
        }
        if (opts.profile) {
          const r = ROUNDS + 1;
          profiles.push(
            ...(await serverPhase({ ...ctx, round: r, workloads: workloads(r), profileDir: opts.profile }))
              .profiles,
          );
        }
        if (mode.sharedBrokerUrl) await fleet.disconnect();
        if (mode.brokerConfig) {
          brokerConfig = mode.brokerConfig;
          defaultLimits = await defaultLimitsDelivery({ ...ctx, round: 0, workloads: [] }, workloads(0)[0]!);
        }
      } finally {
        await mode.cleanup();
      }
    }
  } finally {
    await fleet.stop();
  }
  report(all, profiles, labels, { brokerConfig, defaultLimits });
}

interface BrokerNotes {
  brokerConfig: string | undefined;
  defaultLimits: { messages: number; received: number; lostPercent: number } | undefined;
}

function report(
  all: PhaseResult[],
  profiles: ProfileResult[],
  labels: Partial<Record<ModeName, string>>,
  broker: BrokerNotes,
) {
  printTable(
    'Every phase',
    [
      'mode',
      'workload',
      'phase',
      'lanes',
      'round',
      'messages',
      'msg/s',
      'ms',
      'publish ms',
      'CPU µs/msg',
      'publisher CPU µs/msg',
      'machine busy %',
      'machine CPU µs/msg',
      'mean batch',
      'batch write ms',
      'complete',
    ],
    all.map((p) => [
      p.mode,
      p.workload,
      p.phase,
      p.concurrency,
      p.round,
      p.messages,
      Math.round(p.perSecond),
      Math.round(p.ms),
      Math.round(p.publishMs),
      round(p.cpuMicrosPerMessage),
      round(p.publisherCpuMicrosPerMessage),
      p.machineBusyPercent !== undefined ? Math.round(p.machineBusyPercent) : undefined,
      p.machineCpuMicrosPerMessage !== undefined ? round(p.machineCpuMicrosPerMessage) : undefined,
      p.meanBatch !== undefined ? round(p.meanBatch) : undefined,
      p.meanBatchWriteMs !== undefined ? round(p.meanBatchWriteMs, 2) : undefined,
      p.complete
        ? p.changesWritten !== undefined
          ? `yes (${p.changesWritten} state changes)`
          : 'yes'
        : 'NO',
    ]),
  );
  const summary = [];
  for (const mode of Object.keys(labels) as ModeName[]) {
    for (const workload of KINDS as Workload['kind'][]) {
      for (const concurrency of CONCURRENCY) {
        const runs = (phase: 'raw' | 'server') =>
          all.filter(
            (p) =>
              p.mode === mode &&
              p.workload === workload &&
              p.phase === phase &&
              (phase === 'raw' || p.concurrency === concurrency),
          );
        const best = (phase: 'raw' | 'server') => Math.max(0, ...runs(phase).map((p) => p.perSecond));
        const leastCpu = (phase: 'raw' | 'server') =>
          Math.min(...runs(phase).map((p) => p.cpuMicrosPerMessage));
        const leastMachineCpu = (phase: 'raw' | 'server') =>
          Math.min(...runs(phase).map((p) => p.machineCpuMicrosPerMessage ?? Number.NaN));
        const raw = best('raw');
        const processed = best('server');
        summary.push({
          mode,
          workload,
          ...(concurrency !== undefined ? { ingestConcurrency: concurrency } : {}),
          rawPerSecond: Math.round(raw),
          processedPerSecond: Math.round(processed),
          ratio: raw ? round(processed / raw, 3) : null,
          target: 0.5,
          met: raw > 0 && processed / raw >= 0.5,
          cpuMicrosPerMessageRaw: round(leastCpu('raw')),
          cpuMicrosPerMessageServer: round(leastCpu('server')),
          // What the ratio would be if this process's CPU were all that limited both (the steadier figure here).
          cpuRatio: round(leastCpu('raw') / leastCpu('server'), 3),
          machineCpuMicrosPerMessageRaw: round(leastMachineCpu('raw')),
          machineCpuMicrosPerMessageServer: round(leastMachineCpu('server')),
          // The ratio's ceiling once the machine's cores are saturated (the fleet and brokers share them).
          machineCpuRatio: round(leastMachineCpu('raw') / leastMachineCpu('server'), 3),
        });
      }
    }
  }
  printTable(
    `Ingest: best of ${ROUNDS} rounds, ${PER_DIALECT * 3} devices connected (${UPGRADING_DEVICES} upgrading), window ${WINDOW} (target: processed ≥ 50 % of raw)`,
    [
      'mode',
      'workload',
      'lanes',
      'raw msg/s (no-op subscriber)',
      'processed msg/s (written)',
      'processed / raw',
      'target met',
      'CPU µs/msg raw → server',
      'CPU ratio',
      'machine CPU µs/msg raw → server',
      'machine CPU ratio',
    ],
    summary.map((s) => [
      labels[s.mode],
      s.workload,
      s.ingestConcurrency ?? 'default',
      s.rawPerSecond,
      s.processedPerSecond,
      s.ratio === null ? undefined : `${round(s.ratio * 100)} %`,
      s.met ? 'yes' : 'NO',
      `${s.cpuMicrosPerMessageRaw} → ${s.cpuMicrosPerMessageServer}`,
      `${round(s.cpuRatio * 100)} %`,
      `${s.machineCpuMicrosPerMessageRaw} → ${s.machineCpuMicrosPerMessageServer}`,
      `${round(s.machineCpuRatio * 100)} %`,
    ]),
  );
  if (broker.brokerConfig) console.log(`Scaled mode's Mosquitto config:\n${broker.brokerConfig}\n`);
  if (broker.defaultLimits) {
    const d = broker.defaultLimits;
    console.log(
      `Mosquitto with default limits (20 in flight, 1,000 queued) delivered ${d.received} of ${d.messages} ` +
        `messages of the same burst to one QoS 1 subscriber: ${round(d.lostPercent)} % dropped.\n`,
    );
  }
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
      devices: PER_DIALECT * 3,
      upgrading: UPGRADING_DEVICES,
      reports: Number(opts.reports),
      progress: PROGRESS,
      window: WINDOW,
      rounds: ROUNDS,
      ...(opts.concurrency ? { concurrency: CONCURRENCY } : {}),
    },
    summary,
    ...broker,
    phases: all,
  });
}

ensureSourceConditions();
await main();
// Servers, pools, clients and the fleet are closed; a stray timer must not keep a finished run alive.
process.exit(0);
