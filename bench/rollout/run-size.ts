import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { AloftApi, JobDetail } from '../../packages/cli/src/api/index.js';
import { provisionFleet } from '../../packages/cli/src/simulate/fleet-provisioning.js';
import type { FleetSnapshot } from '../../packages/cli/src/simulate/index.js';
import { Child } from '../lib/child.js';
import type { ProfileSummary } from '../lib/cpu-profile.js';
import { MiB, note } from '../lib/report.js';
import type { ProbeResult } from './bandwidth-probe.js';
import type { FleetStartArgs, ProbeArgs } from './fleet-process.js';
import type { JobTimeline } from './server-process.js';

export interface SizeOptions {
  devices: number;
  /** Fleet child processes (each holds devices + its share of parallel downloads in sockets and files). */
  processes: number;
  /** Parallel downloads per fleet process. */
  maxDownloads: number;
  /** New MQTT connections per second, all fleet processes together. */
  connectRate: number;
  installMs: number;
  packageBytes: number;
  probeMs: number;
  /** Longest the rollout may take before the run gives up (keeps the whole bench bounded). */
  timeoutMs: number;
  pollMs: number;
  /** Profile the server during the rollout, into this file. */
  profileFile?: string;
  /** Profile each fleet process during the rollout, into `<dir>/fleet-<devices>-<i>.cpuprofile`. */
  fleetProfileDir?: string;
}

export interface SizeResult {
  devices: number;
  succeeded: number;
  failed: number;
  /** Job creation to the last device succeeded (server clock). */
  totalMs: number;
  devicesPerSecond: number;
  msPer1k: number;
  /** Job creation to the last upgrade leaving `queued` (server clock). */
  dispatchMs: number;
  dispatchPerSecond: number;
  firstNotifiedMs: number | null;
  /** Download route ceiling measured just before the rollout, same processes, same parallelism. */
  bandwidthGiBps: number;
  bandwidthDevicesPerSecond: number;
  /** devices/s achieved ÷ devices/s the bandwidth allows. */
  ofBandwidthBound: number;
  serverCpuSeconds: number;
  fleetCpuSeconds: number;
  peakDownloading: number;
  fleetFailures: Record<string, number>;
  profile?: ProfileSummary;
  /** One summary per fleet process, when `fleetProfileDir` was given. */
  fleetProfiles?: ProfileSummary[];
}

interface CpuUsage {
  user: number;
  system: number;
}
const cpuSeconds = (a: CpuUsage, b: CpuUsage) => (b.user - a.user + b.system - a.system) / 1e6;

/**
 * One rollout: a product with `devices` registered devices, a 1 MiB package, the fleet connected in child
 * processes; the download bandwidth is probed; then a batch job (no rate limit) runs until every device has
 * reported the new version.
 */
export async function runSize(
  api: AloftApi,
  server: Child,
  mqttUrl: string,
  deviceDir: string,
  options: SizeOptions,
): Promise<SizeResult> {
  const n = options.devices;
  const productKey = `RL${String(n).padStart(8, '0')}`;
  note(`${n} devices: registering`);
  const { product, devices } = await provisionFleet(api, {
    productKey,
    count: n,
    prefix: `d${n}-`,
  });
  const firmware = await api.firmware.upload(
    productKey,
    { version: '2.0.0' },
    { fileName: 'fw.bin', size: options.packageBytes, content: once(randomBytes(options.packageBytes)) },
  );

  const fleets = Array.from({ length: options.processes }, () =>
    Child.start(new URL('./fleet-process.ts', import.meta.url)),
  );
  try {
    note(`${n} devices: connecting (${options.processes} fleet processes)`);
    const share = Math.ceil(n / options.processes);
    const started = await Promise.all(
      fleets.map(async (fleet, i) => {
        const dataDir = join(deviceDir, `fleet-${n}-${i}`);
        await mkdir(dataDir, { recursive: true });
        const args: FleetStartArgs = {
          brokerUrl: mqttUrl,
          product,
          devices: devices.slice(i * share, (i + 1) * share),
          connectRate: options.connectRate / options.processes,
          maxDownloads: options.maxDownloads,
          installMs: options.installMs,
          dataDir,
          // The slot wait (download-limit.ts) happens inside the devices' HTTP client, where the SDK counts it
          // as a download without data: with the default 60 s, devices far back in a 10,000-device queue failed
          // an attempt and retried from the back.
          downloadIdleTimeoutMs: options.timeoutMs,
        };
        return fleet.call<FleetSnapshot>('start', args);
      }),
    );
    const connectFailed = started.reduce((sum, s) => sum + (s.failures.connect_failed ?? 0), 0);
    if (connectFailed > 0) throw new Error(`${connectFailed} of ${n} devices could not connect`);
    await waitForVersions(api, productKey, n);

    note(`${n} devices: probing download bandwidth`);
    const { url } = await api.http.json<{ url: string }>('POST', `/firmware/${firmware.id}/download-url`);
    const probeArgs: ProbeArgs = { url, concurrency: options.maxDownloads, durationMs: options.probeMs };
    const probes = await Promise.all(fleets.map((f) => f.call<ProbeResult>('probe', probeArgs)));
    const probeBytes = probes.reduce((sum, p) => sum + p.bytes, 0);
    const probeErrors = probes.reduce((sum, p) => sum + p.errors, 0);
    if (probeErrors > 0) note(`bandwidth probe: ${probeErrors} failed downloads`);
    const bytesPerSecond = probeBytes / (Math.max(...probes.map((p) => p.ms)) / 1000);

    note(`${n} devices: rollout`);
    if (options.profileFile) await server.call('profileStart');
    if (options.fleetProfileDir) await Promise.all(fleets.map((f) => f.call('profileStart')));
    const serverCpu0 = await server.call<CpuUsage>('cpu');
    const fleetCpu0 = await Promise.all(fleets.map((f) => f.call<CpuUsage>('cpu')));
    const job = await api.jobs.batch({ firmwareId: firmware.id, allowUnverified: true });
    const detail = await waitForJob(api, job.id, n, options);
    const serverCpu1 = await server.call<CpuUsage>('cpu');
    const fleetCpu1 = await Promise.all(fleets.map((f) => f.call<CpuUsage>('cpu')));
    const profile = options.profileFile
      ? await server.call<ProfileSummary>('profileStop', { file: options.profileFile })
      : undefined;
    const { fleetProfileDir } = options;
    const fleetProfiles = fleetProfileDir
      ? await Promise.all(
          fleets.map((f, i) =>
            f.call<ProfileSummary>('profileStop', {
              file: join(fleetProfileDir, `fleet-${n}-${i}.cpuprofile`),
            }),
          ),
        )
      : undefined;
    const timeline = await server.call<JobTimeline>('timeline', { jobId: job.id });
    const snapshots = await Promise.all(fleets.map((f) => f.call<FleetSnapshot>('snapshot')));

    const totalMs = (timeline.lastFinishedAt ?? Date.now()) - timeline.createdAt;
    const dispatchMs = (timeline.lastNotifiedAt ?? Date.now()) - timeline.createdAt;
    const devicesPerSecond = timeline.succeeded / (totalMs / 1000);
    const bandwidthDevicesPerSecond = bytesPerSecond / options.packageBytes;
    const fleetFailures: Record<string, number> = {};
    for (const s of snapshots)
      for (const [code, count] of Object.entries(s.failures))
        fleetFailures[code] = (fleetFailures[code] ?? 0) + count;
    return {
      devices: n,
      succeeded: timeline.succeeded,
      failed: (detail.tabs.failed ?? 0) + (detail.tabs.cancelled ?? 0),
      totalMs,
      devicesPerSecond,
      msPer1k: totalMs / (n / 1000),
      dispatchMs,
      dispatchPerSecond: timeline.upgrades / (dispatchMs / 1000),
      firstNotifiedMs:
        timeline.firstNotifiedAt === null ? null : timeline.firstNotifiedAt - timeline.createdAt,
      bandwidthGiBps: bytesPerSecond / (1024 * MiB),
      bandwidthDevicesPerSecond,
      ofBandwidthBound: devicesPerSecond / bandwidthDevicesPerSecond,
      serverCpuSeconds: cpuSeconds(serverCpu0, serverCpu1),
      fleetCpuSeconds: fleetCpu0.reduce((sum, c, i) => sum + cpuSeconds(c, fleetCpu1[i] ?? c), 0),
      peakDownloading: snapshots.reduce((sum, s) => sum + s.peakDownloading, 0),
      fleetFailures,
      ...(profile ? { profile } : {}),
      ...(fleetProfiles ? { fleetProfiles } : {}),
    };
  } finally {
    await Promise.all(fleets.map((f) => f.call('stop').catch(() => {})));
    await Promise.all(fleets.map((f) => f.stop()));
  }
}

async function* once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

/** The job's counts only move through the ingest path: wait until the server has every device's version. */
async function waitForVersions(api: AloftApi, productKey: string, n: number): Promise<void> {
  const deadline = performance.now() + 60_000;
  for (;;) {
    const versions = await api.products.versions(productKey);
    const reported = versions.reduce((sum, v) => sum + v.devices, 0);
    if (reported >= n) return;
    if (performance.now() > deadline) throw new Error(`only ${reported} of ${n} devices reported a version`);
    await sleep(200);
  }
}

/** Polls the job until every device finished (succeeded or not), or the time is up. */
async function waitForJob(api: AloftApi, jobId: number, n: number, options: SizeOptions): Promise<JobDetail> {
  const deadline = performance.now() + options.timeoutMs;
  for (;;) {
    const detail = await api.jobs.get(jobId);
    const finished = (detail.tabs.succeeded ?? 0) + (detail.tabs.failed ?? 0) + (detail.tabs.cancelled ?? 0);
    if (finished >= n) return detail;
    if (performance.now() > deadline) {
      note(`job ${jobId}: gave up after ${options.timeoutMs} ms: ${JSON.stringify(detail.counts)}`);
      return detail;
    }
    await sleep(options.pollMs);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
