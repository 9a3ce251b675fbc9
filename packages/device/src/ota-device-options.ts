import type { KeyObject } from 'node:crypto';
import type { CredentialOptions, CredentialScheme, Dialect, UpgradeTask } from '@aloft/protocol';
import type { IClientOptions } from 'mqtt';
import type { DownloadOptions } from './download/index.js';
import type { ProgressReporter } from './progress-reporter.js';
import type { UpdateError } from './update-error.js';

/** How the built-in update flow installs a verified package. */
export interface Installer {
  /**
   * Installs the verified package at `file` (flash it, copy it, unpack it…). Resolve when done, throw to fail
   * the update (reported as `install_failed` with the error's message). The file is deleted once this
   * resolves, so copy or flash it before resolving.
   */
  install(file: string, task: UpgradeTask): Promise<void>;
  /**
   * The new version only runs after a reboot. The device then records "report module at version" in its data
   * directory BEFORE calling `install`, emits `reboot-required` when `install` resolves instead of reporting
   * the version, and reports it on the next start (`connect()`), which is what proves success to the server.
   * Default false: the version is reported as soon as `install` resolves.
   */
  reboot?: boolean;
}

/** How the built-in update flow retries a download that failed on the way (never a package that failed to verify). */
export interface DownloadRetryOptions {
  /** Download attempts per task before `download_failed` is reported. Default 5. */
  attempts?: number;
  /**
   * Wait before the second attempt, doubling per attempt up to `maxDelayMs`. A fresh push of the same task
   * (the server re-pushes after a reconnect or a version report) ends the wait at once. Default 2000 ms.
   */
  delayMs?: number;
  /** Default 60 000 ms. */
  maxDelayMs?: number;
  /**
   * After a refused URL (HTTP 403, `url_expired`), how long to wait for the freshly signed task the device asked
   * for before reporting the failure. Default 30 000 ms.
   */
  taskWaitMs?: number;
}

/** Download tuning passed through to {@link downloadFirmware}. */
export type DeviceDownloadOptions = Pick<
  DownloadOptions,
  | 'httpGet'
  | 'fetchImpl'
  | 'bandwidthBytesPerSecond'
  | 'idleTimeoutMs'
  | 'checkpointEveryBytes'
  | 'checkpointEveryMs'
>;

/** Options for {@link OtaDevice}. */
export interface OtaDeviceOptions {
  /** `mqtt://host:1883`, `mqtts://…`, `ws://…`: anything MQTT.js connects to. */
  brokerUrl: string;
  /** Product key (Aliyun), productId (Tencent, exactly 10 characters) or productName (IotHub). */
  productKey: string;
  deviceName: string;
  /** The device secret the server issued when the device was registered. */
  secret: string;
  /** The product's MQTT dialect. */
  dialect: Dialect;
  /**
   * How the MQTT CONNECT is signed. Default per dialect: `aliyun` → `aliyun`, `tencent` → `tencent`,
   * `iothub` → `plain` (username `productKey/deviceName`, password the secret: use TLS).
   */
  credentials?: CredentialScheme;
  /** Fine-tuning of the credentials (client id, sign method…); see `deviceCredentials` in `@aloft/protocol`. */
  credentialOptions?: CredentialOptions;
  /**
   * The version each module runs now, e.g. `{ default: '1.0.0' }` or `{ default: '1.0.0', MCU: '3.2' }`.
   * All are reported on every (re)connect. Tencent carries one version per device: only `default` is allowed.
   */
  modules: Record<string, string>;
  /** A directory the device owns: partial downloads, checkpoints, verified packages, pending reports. */
  dataDir: string;
  /**
   * ed25519 public key (PEM, raw 32 bytes in base64, or a KeyObject) of the product. When set, every package
   * must carry a valid signature or it fails as `verify_failed` (see README, "Signed packages"). Aliyun
   * (`digestsign`) and IotHub (`signature`) pushes carry it; Tencent's cannot, so it is refused there.
   */
  publicKey?: string | KeyObject;
  /**
   * Update automatically: every new task is downloaded, verified and installed with this installer, as
   * {@link OtaDevice.update} does. Without it, handle the `upgrade` event yourself.
   */
  autoUpdate?: Installer;
  /** Download tuning (bandwidth cap, idle timeout, checkpoint interval, HTTP client). */
  download?: DeviceDownloadOptions;
  /** How failed downloads are retried. */
  retry?: DownloadRetryOptions;
  /**
   * Extra MQTT.js options (TLS `ca`, `keepalive`, `reconnectPeriod`, `connectTimeout`…). The credentials,
   * `clean` and `resubscribe` are the device's own.
   */
  mqtt?: Omit<IClientOptions, 'clientId' | 'username' | 'password' | 'clean' | 'resubscribe'>;
}

/** What a finished {@link OtaDevice.update} did. */
export interface UpdateResult {
  /** The task as last pushed (its URL is the one the download finished with). */
  task: UpgradeTask;
  /** True in the reboot flow: the version is reported on the next start. */
  rebootRequired: boolean;
  /** Byte offset the last download attempt resumed at (0: from scratch). */
  resumedFrom: number;
}

/** Events of {@link OtaDevice}, with their arguments. */
export interface OtaDeviceEvents {
  /** Every (re)connect, after the task topics are subscribed and the module versions reported. */
  connect: [];
  /** The connection was lost; MQTT.js reconnects on its own. */
  offline: [];
  /**
   * Connection or subscription errors after the first connect. Unlike a plain EventEmitter, the device does not
   * throw when nobody listens: it keeps reconnecting.
   */
  error: [error: Error];
  /**
   * A new upgrade task. `progress` reports on it. With `autoUpdate` the device is already updating (listen
   * only to show it); without, call `device.update(task, installer)` or do it yourself with `progress`.
   * A re-push of the task that a running `update()` works on is handed to that update instead (no event).
   */
  upgrade: [task: UpgradeTask, progress: ProgressReporter];
  /** Download progress of the built-in flow (throttled like the reports: every 10% step, at most once a second). */
  progress: [task: UpgradeTask, percent: number];
  /** The built-in flow installed a package and reported its version. */
  updated: [result: UpdateResult];
  /** The built-in flow installed a package that needs a reboot: restart now; the version is reported then. */
  'reboot-required': [result: UpdateResult];
  /** The built-in flow failed; the failure was reported to the server with `error.code`. */
  'update-failed': [task: UpgradeTask, error: UpdateError];
}

/** The credentials scheme each dialect's devices use unless told otherwise. */
export const DEFAULT_CREDENTIALS: Readonly<Record<Dialect, CredentialScheme>> = {
  aliyun: 'aliyun',
  tencent: 'tencent',
  iothub: 'plain',
};
