/**
 * Rollout benchmark: a batch job (1 MiB package, no rate limit) to 1,000 and to 10,000 simulated devices, from
 * job creation to every device having reported the new version, with the download route's bandwidth measured in
 * the same run just before each rollout (the ceiling 1 MiB packages allow).
 *
 *   npx tsx bench/rollout.ts [--sizes 1000,10000] [--max-downloads 64] [--processes 2] [--connect-rate 1000]
 *                            [--install-ms 0] [--tick-ms 100] [--probe-ms 3000] [--profile <dir>]
 *                            [--fleet-profile <dir>]
 *
 * Processes: the server (embedded aedes + SQLite, temp data dir, loopback ports) runs in a child of its own; the
 * fleet (the simulator's `Fleet`: real MQTT clients, real downloads verified on md5 and sha256, version reports)
 * is split over `--processes` children (more when a share would pass 5,000 devices). Each fleet process runs at most
 * `--max-downloads` downloads at once: 10,000 simultaneous downloads would pass the ~19,900 open files one process
 * may hold (see bench/rollout/download-limit.ts). With --profile, the server runs the largest rollout under the
 * V8 CPU profiler (what `node --cpu-prof` runs, limited to the rollout) and writes the .cpuprofile there; with
 * --fleet-profile, every fleet process does the same during every rollout (`fleet-<devices>-<i>.cpuprofile`).
 * Prints a table and one JSON line; timings come from the server's own upgrade rows (created → last notified →
 * last finished).
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { connectApi } from '../packages/cli/src/api/index.js';
import { Child } from './lib/child.js';
import { note, printJson, printTable, round } from './lib/report.js';
import { runSize, type SizeResult } from './rollout/run-size.js';
import type { ServerStartArgs } from './rollout/server-process.js';

const { values: opts } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1000,10000' },
    'max-downloads': { type: 'string', default: '64' },
    processes: { type: 'string', default: '2' },
    'connect-rate': { type: 'string', default: '1000' },
    'install-ms': { type: 'string', default: '0' },
    'tick-ms': { type: 'string', default: '100' },
    'probe-ms': { type: 'string', default: '3000' },
    profile: { type: 'string' },
    'fleet-profile': { type: 'string' },
  },
});

/** Whole-run budget: the issue allows 10 minutes; past this everything is torn down and the run fails. */
const BUDGET_MS = 9 * 60_000;
/** A fleet process keeps at most this many devices (MQTT socket each, + downloads and their files). */
const MAX_PER_PROCESS = 5000;
/** AWS IoT Jobs' maximum rollout rate: 1,000 devices per minute. */
const AWS_IOT_JOBS_PER_SECOND = 1000 / 60;

async function main(): Promise<void> {
  const sizes = opts.sizes.split(',').map(Number);
  const workDir = await mkdtemp(join(tmpdir(), 'aloft-bench-rollout-'));
  // The devices' "flash" lives in tmpfs when there is one: each device writes and fsyncs its 1 MiB package, and
  // 10 GiB of that on the server's disk would make the server's SQLite commits wait behind the fleet's writeback,
  // a contention no real deployment has (devices write to their own storage).
  const deviceDir = await mkdtemp(
    join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'aloft-bench-rollout-devices-'),
  );
  const adminToken = randomBytes(24).toString('hex');
  const server = Child.start(new URL('./rollout/server-process.ts', import.meta.url));
  const budget = setTimeout(() => {
    note(`over the ${BUDGET_MS / 60_000} minute budget: stopping`);
    void server
      .stop(1000)
      .finally(() => rm(workDir, { recursive: true, force: true }).finally(() => process.exit(2)));
  }, BUDGET_MS);
  const results: SizeResult[] = [];
  try {
    const startArgs: ServerStartArgs = {
      dataDir: join(workDir, 'server'),
      adminToken,
      engineTickMs: Number(opts['tick-ms']),
    };
    const { httpUrl, mqttAddress } = await server.call<{ httpUrl: string; mqttAddress: string }>(
      'start',
      startArgs,
    );
    const api = connectApi({ baseUrl: httpUrl, token: adminToken });
    const largest = Math.max(...sizes);
    for (const devices of sizes) {
      const profileFile =
        opts.profile && devices === largest
          ? join(resolve(opts.profile), `rollout-${devices}.cpuprofile`)
          : undefined;
      results.push(
        await runSize(api, server, mqttAddress, deviceDir, {
          devices,
          processes: Math.max(Number(opts.processes), Math.ceil(devices / MAX_PER_PROCESS)),
          maxDownloads: Number(opts['max-downloads']),
          connectRate: Number(opts['connect-rate']),
          installMs: Number(opts['install-ms']),
          packageBytes: 1024 * 1024,
          probeMs: Number(opts['probe-ms']),
          timeoutMs: 330_000,
          pollMs: 250,
          ...(profileFile ? { profileFile } : {}),
          ...(opts['fleet-profile'] ? { fleetProfileDir: resolve(opts['fleet-profile']) } : {}),
        }),
      );
    }
  } finally {
    clearTimeout(budget);
    await server.call('stop').catch(() => {});
    await server.stop();
    await rm(workDir, { recursive: true, force: true });
    await rm(deviceDir, { recursive: true, force: true });
  }
  report(results);
}

function report(results: SizeResult[]): void {
  const small = results.find((r) => r.devices === 1000) ?? results[0];
  const large = results.find((r) => r.devices === 10_000) ?? results[results.length - 1];
  const ratio = small && large && small !== large ? large.totalMs / small.totalMs : null;
  printTable(
    'Rollout: batch job, 1 MiB package, no rate limit, job created → every device reported the new version',
    [
      'devices',
      'succeeded',
      'total s',
      'devices/s',
      's per 1k',
      'dispatch s',
      'dispatched/s',
      'bandwidth GiB/s',
      'bound devices/s',
      '% of bound',
      'server CPU s',
      'fleet CPU s',
    ],
    results.map((r) => [
      r.devices,
      r.succeeded,
      round(r.totalMs / 1000, 2),
      Math.round(r.devicesPerSecond),
      round(r.msPer1k / 1000, 2),
      round(r.dispatchMs / 1000, 2),
      Math.round(r.dispatchPerSecond),
      round(r.bandwidthGiBps, 2),
      Math.round(r.bandwidthDevicesPerSecond),
      `${Math.round(r.ofBandwidthBound * 100)} %`,
      round(r.serverCpuSeconds, 1),
      round(r.fleetCpuSeconds, 1),
    ]),
  );
  if (ratio !== null && small && large) {
    console.log(
      `10k/1k total time: ${round(ratio, 2)}× (limit 12×: ${ratio <= 12 ? 'within' : 'OVER'}); ` +
        `dispatch ${Math.round(large.dispatchPerSecond)} devices/s at 10k (anchor ≥ 1,000/s; AWS IoT Jobs caps at ` +
        `${round(AWS_IOT_JOBS_PER_SECOND, 1)}/s: ${Math.round(large.dispatchPerSecond / AWS_IOT_JOBS_PER_SECOND)}×)`,
    );
  }
  for (const r of results.filter((x) => x.profile)) {
    console.log(`\nServer CPU profile of the ${r.devices}-device rollout (self time):`);
    for (const a of r.profile?.areas ?? []) console.log(`  ${a.percent}%  ${a.name}`);
    for (const f of (r.profile?.functions ?? []).slice(0, 15)) console.log(`  ${f.percent}%  ${f.name}`);
  }
  for (const r of results) {
    (r.fleetProfiles ?? []).forEach((p, i) => {
      console.log(`\nFleet process ${i} CPU profile of the ${r.devices}-device rollout (self time):`);
      for (const a of p.areas) console.log(`  ${a.percent}%  ${a.name}`);
      for (const f of p.functions.slice(0, 20)) console.log(`  ${f.percent}%  ${f.name}`);
    });
  }
  printJson('rollout', {
    options: opts,
    results: results.map(({ profile, fleetProfiles: _fleetProfiles, ...r }) => ({
      ...r,
      totalMs: Math.round(r.totalMs),
      ...(profile ? { profileTop: profile.functions.slice(0, 10) } : {}),
    })),
    ratio10kTo1k: ratio === null ? null : round(ratio, 2),
    limitRatio: 12,
    dispatchAnchorPerSecond: 1000,
  });
}

await main();
