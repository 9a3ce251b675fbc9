import { randomBytes, randomInt } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeHttpGet } from '@aloft/device';
import { abortable, delay } from './abortable.js';
import { ConnectPacer } from './connect-pacer.js';
import { countFaults, type FaultCounts, planFaults, seededRandom } from './fault-plan.js';
import type { FleetOptions, FleetProduct, FleetSnapshot } from './fleet-options.js';
import {
  type DeviceEnvironment,
  type DeviceObserver,
  type DeviceReport,
  SIMULATED_DEVICE_STATES,
  SimulatedDevice,
  type SimulatedDeviceState,
} from './simulated-device.js';

export type { FleetOptions, FleetProduct, FleetSnapshot };

/** States in which a device is still on its way somewhere. */
const BUSY: readonly SimulatedDeviceState[] = ['connecting', 'downloading', 'installing', 'offline'];

/**
 * A simulated device fleet in one process: every device is a real {@link OtaDevice} of `@aloft/device` with its
 * own MQTT connection, doing real downloads (resumable, verified, optionally throttled) and "installing" with a
 * delay; faults are injected from the outside (see {@link FaultFractions}). Used by `aloft simulate`, the tests
 * and the benchmarks.
 *
 * ```ts
 * const { product, devices } = await provisionFleet(api, { productKey: 'lamp', count: 1000 });
 * const fleet = new Fleet({ brokerUrl: 'mqtt://127.0.0.1:1883', product, devices, faults: { drop: 0.1 } });
 * await fleet.start();            // every device connected and reported its version
 * // …start a job…
 * await fleet.waitUntilIdle();
 * console.log(fleet.snapshot());
 * await fleet.stop();
 * ```
 *
 * Open files: each device holds its MQTT connection, plus an HTTP connection and its partial file while it
 * downloads. One process can hold about 19,900 (hard limit 20,000 here): devices + 2 × concurrent downloads
 * must stay below that, so above ~15,000 devices split the fleet over several processes.
 */
export class Fleet {
  readonly product: FleetProduct;
  readonly module: string;
  readonly #seed: number;
  readonly #faultCounts: FaultCounts;
  readonly #devices: SimulatedDevice[] = [];
  readonly #stop = new AbortController();
  readonly #states: Record<SimulatedDeviceState, number>;
  #counters = {
    devicesWithTask: 0,
    updatesSucceeded: 0,
    updatesFailed: 0,
    bytesDownloaded: 0,
    resumedDownloads: 0,
    drops: 0,
    offlineEpisodes: 0,
    peakDownloading: 0,
  };
  #startedAt: number | undefined;
  #stoppedAt: number | undefined;
  #lastChangeAt = performance.now();
  #started: Promise<void> | undefined;
  readonly #dataDir: { path: string; temporary: boolean };
  #stopped: Promise<void> | undefined;

  constructor(options: FleetOptions) {
    this.product = options.product;
    this.module = options.module ?? 'default';
    if (options.product.dialect === 'tencent' && this.module !== 'default') {
      throw new RangeError('tencent devices have one module: use the module "default"');
    }
    // Every device waits on the stop signal (connect slots, offline time): thousands of listeners are expected.
    setMaxListeners(0, this.#stop.signal);
    this.#seed = options.seed ?? randomInt(2 ** 31);
    const plan = planFaults(options.devices.length, options.faults ?? {}, seededRandom(this.#seed));
    this.#faultCounts = countFaults(plan);
    this.#states = Object.fromEntries(SIMULATED_DEVICE_STATES.map((s) => [s, 0])) as Record<
      SimulatedDeviceState,
      number
    >;
    this.#dataDir = options.dataDir
      ? { path: options.dataDir, temporary: false }
      : { path: join(tmpdir(), `aloft-sim-${randomBytes(6).toString('hex')}`), temporary: true };
    const env: DeviceEnvironment = {
      brokerUrl: options.brokerUrl,
      productKey: options.product.key,
      dialect: options.product.dialect,
      signingPublicKey: options.product.signingPublicKey ?? undefined,
      module: this.module,
      version: options.version ?? '1.0.0',
      installMs: options.installMs ?? 1000,
      offlineMs: options.offlineMs ?? 10_000,
      bandwidthBytesPerSecond: options.bandwidthBytesPerSecond,
      retryDelayMs: options.retryDelayMs ?? 1000,
      downloadIdleTimeoutMs: options.downloadIdleTimeoutMs,
      connectAttempts: options.connectAttempts ?? 3,
      dataDir: this.#dataDir.path,
      httpGet: options.httpGet ?? nodeHttpGet,
      mqtt: options.mqtt,
      pacer: new ConnectPacer(options.connectRate ?? 200),
      signal: this.#stop.signal,
      observer: this.#observer(),
    };
    options.devices.forEach((identity, i) => {
      this.#devices.push(new SimulatedDevice(identity, plan[i] ?? {}, env));
    });
  }

  /** Number of devices. */
  get size(): number {
    return this.#devices.length;
  }

  /**
   * Connects every device, at most `connectRate` new connections per second. Resolves when each device has
   * connected and reported its version (or gave up: state `failed`, error `connect_failed`), or the fleet was
   * stopped. Call once.
   */
  start(): Promise<void> {
    this.#started ??= this.#start();
    return this.#started;
  }

  async #start(): Promise<void> {
    this.#startedAt = performance.now();
    await mkdir(this.#dataDir.path, { recursive: true });
    await Promise.all(this.#devices.map((device) => device.powerOn()));
  }

  /** Counts as they stand. */
  snapshot(): FleetSnapshot {
    const failures: Record<string, number> = {};
    for (const device of this.#devices) {
      if (device.state !== 'failed') continue;
      const code = device.report().error?.code ?? 'other';
      failures[code] = (failures[code] ?? 0) + 1;
    }
    return {
      devices: this.size,
      states: { ...this.#states },
      ...this.#counters,
      failures,
      faults: { ...this.#faultCounts },
      seed: this.#seed,
      elapsedMs: this.#startedAt === undefined ? 0 : (this.#stoppedAt ?? performance.now()) - this.#startedAt,
    };
  }

  /** Every device as it stands (name, state, version, faults, error…). */
  devices(): DeviceReport[] {
    return this.#devices.map((device) => device.report());
  }

  /**
   * True when at least one device received a task and none is connecting, downloading, installing or offline:
   * the fleet has done what it was asked so far.
   */
  isSettled(): boolean {
    return this.#counters.devicesWithTask > 0 && BUSY.every((state) => this.#states[state] === 0);
  }

  /**
   * Resolves once the fleet {@link isSettled} and no device changed state for `quietMs` (default 5000): long
   * enough for a job's next wave or a re-push to arrive. A job that waits longer between devices (rate limits,
   * retry delays, staged groups) needs a longer quiet time; `minTasked` also waits until at least that many
   * devices received a task. Rejects with `signal.reason` when aborted.
   */
  async waitUntilIdle(
    options: { quietMs?: number; minTasked?: number; pollMs?: number; signal?: AbortSignal } = {},
  ): Promise<void> {
    const quietMs = options.quietMs ?? 5000;
    const minTasked = options.minTasked ?? 0;
    const signal = options.signal ?? new AbortController().signal;
    for (;;) {
      if (
        this.isSettled() &&
        this.#counters.devicesWithTask >= minTasked &&
        performance.now() - this.#lastChangeAt >= quietMs
      ) {
        return;
      }
      await abortable(delay(options.pollMs ?? 100), signal);
    }
  }

  /**
   * Stops every device (downloads keep their checkpoints, installs in progress finish) and removes the
   * temporary data directory. The counts stay readable.
   */
  stop(): Promise<void> {
    this.#stopped ??= this.#stopAll();
    return this.#stopped;
  }

  async #stopAll(): Promise<void> {
    this.#stoppedAt ??= performance.now();
    this.#stop.abort(new Error('the fleet was stopped'));
    await this.#started?.catch(() => {});
    await Promise.all(this.#devices.map((device) => device.close()));
    if (this.#dataDir.temporary) await rm(this.#dataDir.path, { recursive: true, force: true });
  }

  #observer(): DeviceObserver {
    const counters = this.#counters;
    const states = this.#states;
    return {
      stateChanged: (from, to) => {
        if (from !== undefined) states[from]--;
        states[to]++;
        counters.peakDownloading = Math.max(counters.peakDownloading, states.downloading);
        this.#lastChangeAt = performance.now();
      },
      bytes: (count) => {
        counters.bytesDownloaded += count;
      },
      resumed: () => {
        counters.resumedDownloads++;
      },
      dropped: () => {
        counters.drops++;
      },
      wentOffline: () => {
        counters.offlineEpisodes++;
      },
      updateFailed: () => {
        counters.updatesFailed++;
      },
      updated: () => {
        counters.updatesSucceeded++;
      },
      taskReceived: (first) => {
        if (first) counters.devicesWithTask++;
      },
    };
  }
}
