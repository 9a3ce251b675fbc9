/**
 * Child process: one share of the simulated fleet (the simulator's `Fleet`: real MQTT connections, real
 * downloads, verified packages, version reports), driven by bench/rollout.ts over IPC. Also runs the
 * bandwidth probe, so the probe's clients sit where the devices do.
 */
import {
  type DeviceIdentity,
  Fleet,
  type FleetProduct,
  type FleetSnapshot,
} from '../../packages/cli/src/simulate/index.js';
import { nodeHttpGet } from '../../packages/device/src/index.js';
import { serve } from '../lib/child.js';
import { profilerCommands } from '../lib/cpu-profile.js';
import { probeBandwidth } from './bandwidth-probe.js';
import { limitDownloads } from './download-limit.js';

export interface FleetStartArgs {
  brokerUrl: string;
  product: FleetProduct;
  devices: DeviceIdentity[];
  connectRate: number;
  maxDownloads: number;
  installMs: number;
  dataDir: string;
  /** Longer than any wait for a download slot: that wait is not a stalled download. */
  downloadIdleTimeoutMs: number;
}

export interface ProbeArgs {
  url: string;
  concurrency: number;
  durationMs: number;
}

let fleet: Fleet | undefined;

serve({
  async start(args: FleetStartArgs) {
    fleet = new Fleet({
      brokerUrl: args.brokerUrl,
      product: args.product,
      devices: args.devices,
      installMs: args.installMs,
      connectRate: args.connectRate,
      dataDir: args.dataDir,
      downloadIdleTimeoutMs: args.downloadIdleTimeoutMs,
      httpGet: limitDownloads(nodeHttpGet, args.maxDownloads),
      // A rollout of a healthy fleet: no injected faults.
      faults: {},
      seed: 1,
    });
    await fleet.start();
    return fleet.snapshot();
  },
  snapshot(): FleetSnapshot | undefined {
    return fleet?.snapshot();
  },
  cpu() {
    return process.cpuUsage();
  },
  ...profilerCommands(),
  probe(args: ProbeArgs) {
    return probeBandwidth(args.url, args.concurrency, args.durationMs);
  },
  async stop() {
    await fleet?.stop();
    fleet = undefined;
  },
});
