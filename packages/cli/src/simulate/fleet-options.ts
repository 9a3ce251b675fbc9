import type { HttpGet, OtaDeviceOptions } from '@aloft/device';
import type { Dialect } from '@aloft/protocol';
import type { FaultCounts, FaultFractions } from './fault-plan.js';
import type { DeviceIdentity, SimulatedDeviceState } from './simulated-device.js';

/** The product the simulated devices belong to. */
export interface FleetProduct {
  key: string;
  dialect: Dialect;
  /** The product's ed25519 public key when it signs its firmware: devices then verify every package. */
  signingPublicKey?: string | null;
}

/** Options for `Fleet`. */
export interface FleetOptions {
  /** Where the devices connect, e.g. `mqtt://127.0.0.1:1883`. */
  brokerUrl: string;
  product: FleetProduct;
  /** Registered devices (see `provisionFleet`). */
  devices: readonly DeviceIdentity[];
  /** The module the devices run and update. Default `default` (the only one Tencent devices have). */
  module?: string;
  /** The version every device starts at. Default `1.0.0`. */
  version?: string;
  /** How long "installing" a verified package takes. Default 1000 ms. */
  installMs?: number;
  /** Faults to inject; see {@link FaultFractions}. */
  faults?: FaultFractions;
  /** How long a device hit by the `offline` fault stays off. Default 10 000 ms. */
  offlineMs?: number;
  /** Caps each device's download rate. Default: no cap. */
  bandwidthBytesPerSecond?: number;
  /** New MQTT connections per second, fleet-wide. Default 200. */
  connectRate?: number;
  /** Connection attempts before a device counts as failed (`connect_failed`). Default 3. */
  connectAttempts?: number;
  /** Wait before a device retries a failed download; doubles per attempt up to 8×. Default 1000 ms. */
  retryDelayMs?: number;
  /**
   * How long a download may go without a byte before the attempt fails and is retried (the SDK's
   * `download.idleTimeoutMs`). Default the SDK's 60 s. A fleet whose downloads wait for a slot inside `httpGet`
   * (the rollout benchmark caps them per process) needs longer: the wait counts as silence.
   */
  downloadIdleTimeoutMs?: number;
  /** Parent of the devices' data directories. Default: a temporary directory, removed by `Fleet.stop`. */
  dataDir?: string;
  /** Seeds which devices get which fault. Default random (see {@link FleetSnapshot.seed}). */
  seed?: number;
  /**
   * The HTTP client downloads go through, before faults are injected. Default the SDK's `nodeHttpGet`: one
   * connection per download, really closed when a drop is injected.
   */
  httpGet?: HttpGet;
  /** Extra MQTT.js options for every device (keepalive, reconnectPeriod…). */
  mqtt?: OtaDeviceOptions['mqtt'];
}

/** Counts describing the fleet at one moment. */
export interface FleetSnapshot {
  devices: number;
  /** Devices per state. */
  states: Record<SimulatedDeviceState, number>;
  /** Devices that received at least one upgrade task. */
  devicesWithTask: number;
  /** Updates that installed and reported their version (events, so a device can count twice). */
  updatesSucceeded: number;
  /** Updates that failed and were reported to the server (events). */
  updatesFailed: number;
  /** Devices failed right now, per error code (`install_failed`, `verify_failed`, `connect_failed`…). */
  failures: Record<string, number>;
  /** Package bytes received by all devices, including bytes of attempts cut short. */
  bytesDownloaded: number;
  /** Download requests that resumed with a Range request. */
  resumedDownloads: number;
  /** Injected connection drops that happened. */
  drops: number;
  /** Injected power losses that happened. */
  offlineEpisodes: number;
  /** Most devices in `downloading` at once. */
  peakDownloading: number;
  /** How many devices were dealt each fault. */
  faults: FaultCounts;
  /** The seed faults were dealt with: pass it again to deal the same faults. */
  seed: number;
  /** From `Fleet.start` to now, or to `Fleet.stop`. */
  elapsedMs: number;
}
