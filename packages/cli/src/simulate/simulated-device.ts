import { join } from 'node:path';
import { type HttpGet, type Installer, OtaDevice, type OtaDeviceOptions } from '@aloft/device';
import type { Dialect } from '@aloft/protocol';
import { abortable, delay } from './abortable.js';
import type { ConnectPacer } from './connect-pacer.js';
import type { DeviceFaults } from './fault-plan.js';
import { SimulatedLink } from './simulated-link.js';

/** What the simulator shows a device doing. */
export type SimulatedDeviceState =
  /** Not connected yet, or reconnecting after the broker connection was lost. */
  | 'connecting'
  /** Connected; no update has run yet. */
  | 'idle'
  /** Got a task: downloading and verifying (including waits between retries). */
  | 'downloading'
  /** The installer is running. */
  | 'installing'
  /** The last update installed and its version was reported. */
  | 'upgraded'
  /** The last update failed (reported to the server), or the device could not connect at all. */
  | 'failed'
  /** Switched off by the `offline` fault; starts again after the offline time. */
  | 'offline';

/** Every state, in the order summaries list them. */
export const SIMULATED_DEVICE_STATES: readonly SimulatedDeviceState[] = [
  'connecting',
  'idle',
  'downloading',
  'installing',
  'upgraded',
  'failed',
  'offline',
];

/** A device's name and the secret the server issued for it. */
export interface DeviceIdentity {
  name: string;
  secret: string;
}

/** One simulated device as it stands. */
export interface DeviceReport {
  name: string;
  state: SimulatedDeviceState;
  /** The version the simulated module runs now. */
  version: string;
  faults: DeviceFaults;
  /** Why the last update (or the connection) failed: the code reported to the server, or `connect_failed`. */
  error?: { code: string; message: string };
  /** Upgrade tasks received (a re-push after a restart counts again). */
  tasks: number;
  /** Download requests that resumed with a Range request. */
  resumes: number;
  /** Epoch ms of the first task, and of the last update's end (success or failure). */
  firstTaskAt?: number;
  finishedAt?: number;
}

/** What every device of a fleet shares. */
export interface DeviceEnvironment {
  brokerUrl: string;
  productKey: string;
  dialect: Dialect;
  /** PEM or base64 ed25519 key: devices of a signing product verify every package with it. */
  signingPublicKey: string | undefined;
  module: string;
  version: string;
  installMs: number;
  offlineMs: number;
  bandwidthBytesPerSecond: number | undefined;
  retryDelayMs: number;
  /** The SDK's default when undefined. */
  downloadIdleTimeoutMs: number | undefined;
  connectAttempts: number;
  /** Parent of every device's data directory. */
  dataDir: string;
  /** The HTTP client downloads go through, before the device's faults are injected. */
  httpGet: HttpGet;
  mqtt: OtaDeviceOptions['mqtt'];
  pacer: ConnectPacer;
  /** Aborted when the fleet stops. */
  signal: AbortSignal;
  observer: DeviceObserver;
}

/** How devices tell the fleet what happened, so it keeps its counts without scanning every device. */
export interface DeviceObserver {
  stateChanged(from: SimulatedDeviceState | undefined, to: SimulatedDeviceState): void;
  bytes(count: number): void;
  resumed(): void;
  dropped(): void;
  wentOffline(): void;
  updateFailed(): void;
  updated(): void;
  taskReceived(first: boolean): void;
}

/**
 * One simulated device: an {@link OtaDevice} of the SDK, doing real updates with its built-in flow, plus the
 * faults it was dealt. A power loss closes the OtaDevice and, after the offline time, starts a new one on the
 * same data directory, as a rebooted device would.
 */
export class SimulatedDevice {
  readonly identity: DeviceIdentity;
  readonly faults: DeviceFaults;
  readonly #env: DeviceEnvironment;
  readonly #link: SimulatedLink;
  #state: SimulatedDeviceState | undefined;
  /** What the device shows when connected and not updating. */
  #resting: 'idle' | 'upgraded' | 'failed' = 'idle';
  #version: string;
  #device: OtaDevice | undefined;
  #error: { code: string; message: string } | undefined;
  #tasks = 0;
  #resumes = 0;
  #firstTaskAt: number | undefined;
  #finishedAt: number | undefined;
  #closed = false;
  /** The running power cycle, so close() can wait for it. */
  #cycle: Promise<void> | undefined;

  constructor(identity: DeviceIdentity, faults: DeviceFaults, env: DeviceEnvironment) {
    this.identity = identity;
    this.faults = faults;
    this.#env = env;
    this.#version = env.version;
    this.#link = new SimulatedLink(
      faults,
      {
        onBytes: (count) => env.observer.bytes(count),
        onResume: () => {
          this.#resumes++;
          env.observer.resumed();
        },
        onDrop: () => env.observer.dropped(),
        onPowerLoss: () => {
          this.#cycle = this.#powerCycle();
        },
      },
      env.httpGet,
    );
    this.#setState('connecting');
  }

  get state(): SimulatedDeviceState {
    return this.#state ?? 'connecting';
  }

  report(): DeviceReport {
    return {
      name: this.identity.name,
      state: this.state,
      version: this.#version,
      faults: this.faults,
      ...(this.#error ? { error: this.#error } : {}),
      tasks: this.#tasks,
      resumes: this.#resumes,
      ...(this.#firstTaskAt === undefined ? {} : { firstTaskAt: this.#firstTaskAt }),
      ...(this.#finishedAt === undefined ? {} : { finishedAt: this.#finishedAt }),
    };
  }

  /**
   * Waits for a connect slot, then connects (retrying a failed first attempt). Resolves once connected, or
   * once the device gave up (state `failed`, error `connect_failed`) or the fleet stopped.
   */
  async powerOn(): Promise<void> {
    const { signal } = this.#env;
    let lastError: unknown;
    for (let attempt = 1; attempt <= this.#env.connectAttempts; attempt++) {
      try {
        await this.#env.pacer.slot(signal);
      } catch {
        return; // the fleet stopped
      }
      const device = this.#createDevice();
      try {
        // A broker that never answers leaves connect() pending (MQTT.js keeps trying): a stop must end it.
        await abortable(device.connect(), signal);
        return;
      } catch (error) {
        await device.close().catch(() => {});
        if (this.#device === device) this.#device = undefined;
        if (this.#closed || signal.aborted) return;
        lastError = error;
        await delay(Math.min(10_000, 1000 * 2 ** (attempt - 1)), signal).catch(() => {});
      }
    }
    if (this.#closed) return;
    this.#error = { code: 'connect_failed', message: messageOf(lastError) };
    this.#resting = 'failed';
    this.#setState('failed');
  }

  /** Stops the device: a download in progress keeps its checkpoint; an install in progress finishes. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#device?.close().catch(() => {});
    await this.#cycle;
  }

  #createDevice(): OtaDevice {
    const env = this.#env;
    const device = new OtaDevice({
      brokerUrl: env.brokerUrl,
      productKey: env.productKey,
      deviceName: this.identity.name,
      secret: this.identity.secret,
      dialect: env.dialect,
      modules: { [env.module]: this.#version },
      dataDir: join(env.dataDir, this.identity.name),
      ...(env.signingPublicKey === undefined ? {} : { publicKey: env.signingPublicKey }),
      autoUpdate: this.#installer(),
      download: {
        httpGet: this.#link.get,
        // A checkpoint costs two fsyncs; a thousand devices taking one a second swamp the disk (and Node's four
        // file-system threads). A simulated device never crashes, and the SDK also checkpoints on every failure
        // and abort, which is what the drop and offline faults need: so only then.
        checkpointEveryBytes: Number.MAX_SAFE_INTEGER,
        checkpointEveryMs: Number.MAX_SAFE_INTEGER,
        ...(env.bandwidthBytesPerSecond === undefined
          ? {}
          : { bandwidthBytesPerSecond: env.bandwidthBytesPerSecond }),
        ...(env.downloadIdleTimeoutMs === undefined ? {} : { idleTimeoutMs: env.downloadIdleTimeoutMs }),
      },
      retry: { delayMs: env.retryDelayMs, maxDelayMs: env.retryDelayMs * 8 },
      mqtt: {
        // Spread out reconnects: a broker restart must not bring the whole fleet back in the same second.
        reconnectPeriod: 1000 + Math.floor(Math.random() * 2000),
        connectTimeout: 30_000,
        ...env.mqtt,
      },
    });
    this.#device = device;
    const current = () => this.#device === device && !this.#closed;
    device.on('connect', () => {
      if (current() && this.#state === 'connecting') this.#setState(this.#resting);
    });
    device.on('offline', () => {
      if (current() && this.#state === this.#resting) this.#setState('connecting');
    });
    device.on('error', () => {
      // MQTT.js reconnects on its own; the state shows `connecting` meanwhile.
    });
    device.on('upgrade', () => {
      if (!current()) return;
      this.#tasks++;
      const first = this.#firstTaskAt === undefined;
      this.#firstTaskAt ??= Date.now();
      env.observer.taskReceived(first);
      this.#setState('downloading');
    });
    device.on('updated', (result) => {
      this.#version = result.task.version;
      this.#error = undefined;
      this.#finish('upgraded');
      env.observer.updated();
    });
    device.on('update-failed', (_task, error) => {
      this.#error = { code: error.code, message: error.message };
      this.#finish('failed');
      env.observer.updateFailed();
    });
    return device;
  }

  #installer(): Installer {
    return {
      install: async () => {
        if (!this.#closed) this.#setState('installing');
        // Not cut short by a stop: the SDK lets an install finish, as a real device would.
        await delay(this.#env.installMs);
        if (this.faults.fail === 'install') throw new Error('simulated install failure');
      },
    };
  }

  #finish(state: 'upgraded' | 'failed'): void {
    this.#finishedAt = Date.now();
    this.#resting = state;
    this.#setState(state);
  }

  /** The `offline` fault: switch off, stay off, start again from the same data directory. */
  async #powerCycle(): Promise<void> {
    if (this.#closed) return;
    this.#env.observer.wentOffline();
    this.#setState('offline');
    const device = this.#device;
    this.#device = undefined;
    await device?.close().catch(() => {});
    try {
      await delay(this.#env.offlineMs, this.#env.signal);
    } catch {
      return; // the fleet stopped while the device was off
    }
    if (this.#closed) return;
    this.#setState('connecting');
    await this.powerOn();
  }

  #setState(next: SimulatedDeviceState): void {
    const previous = this.#state;
    if (previous === next) return;
    this.#state = next;
    this.#env.observer.stateChanged(previous, next);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
