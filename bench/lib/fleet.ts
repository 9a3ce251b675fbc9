import type { Dialect } from '@aloft/protocol';
import { Child } from './child.js';

/** One simulated device: who it is and which module its firmware names. */
export interface FleetDevice {
  dialect: Dialect;
  productKey: string;
  deviceName: string;
  module: string;
  /** Takes part in the `upgrade` workload (a rollout has some of the fleet in flight, not all of it). */
  upgrading?: boolean;
}

export interface ConnectArgs {
  url: string;
  devices: FleetDevice[];
  /** MQTT keepalive in seconds. */
  keepalive: number;
  /** Connections opened at once. */
  concurrency: number;
  /** Publish one version report right after subscribing, as the vendor SDKs do on every connect. */
  reportVersion?: string;
}

/**
 * What each device publishes, byte for byte as its vendor SDK would (the protocol package's device-side encoders):
 * - `report`: `count` version reports, versions `<tag>.1` … `<tag>.<count>` (no upgrade is active: telemetry path);
 * - `upgrade`: devices marked `upgrading` send `count` download-progress reports rising to 100 %, then the version
 *   `<tag>` (every message moves the device's upgrade: the state machine path).
 */
export interface Workload {
  kind: 'report' | 'upgrade';
  tag: string;
  count: number;
  /** QoS 1 publishes each device keeps un-acknowledged at once: "as fast as the broker takes them". */
  window: number;
}

/** The device fleet, in a child process of its own. */
export class Fleet {
  private constructor(private readonly child: Child) {}

  static start(): Fleet {
    return new Fleet(Child.start(new URL('./fleet-process.ts', import.meta.url)));
  }

  get pid(): number {
    return this.child.pid;
  }

  /** Connects and subscribes every device; resolves with how long it took and how many were refused. */
  connect(args: ConnectArgs): Promise<{ ms: number; failed: number; firstError?: string }> {
    return this.child.call('connect', args);
  }

  /** Encodes every message up front, so the timed part is publishing only. Returns the message count. */
  prepare(workload: Workload): Promise<{ messages: number }> {
    return this.child.call('prepare', workload);
  }

  /** Publishes the prepared messages; resolves when the broker has acknowledged every one. */
  go(): Promise<{ ms: number; cpuMs: number }> {
    return this.child.call('go');
  }

  disconnect(): Promise<void> {
    return this.child.call('disconnect');
  }

  stop(): Promise<void> {
    return this.child.stop();
  }
}

/** Download percents of the upgrade workload: `count` steps evenly up to 100. */
export function progressSteps(count: number): number[] {
  return Array.from({ length: count }, (_, i) => Math.round(((i + 1) * 100) / count));
}
