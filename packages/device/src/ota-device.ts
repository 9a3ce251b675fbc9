import type { KeyObject } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import {
  codecFor,
  DEFAULT_MODULE,
  type DeviceRef,
  type DialectCodec,
  deviceCredentials,
  type OutboundMessage,
  type UpgradeTask,
} from '@aloft/protocol';
import type { MqttClient } from 'mqtt';
import { parseEd25519PublicKey } from './download/index.js';
import { endConnection, openConnection } from './mqtt-connection.js';
import {
  DEFAULT_CREDENTIALS,
  type Installer,
  type OtaDeviceEvents,
  type OtaDeviceOptions,
  type UpdateResult,
} from './ota-device-options.js';
import { type PendingReport, PendingReports } from './pending-reports.js';
import { ProgressReporter } from './progress-reporter.js';
import { UpdateError } from './update-error.js';
import { type RetryPolicy, runUpdateFlow } from './update-flow.js';
import { UpdateSession } from './update-session.js';

/**
 * A device that takes firmware updates from an Aloft server over MQTT, in the dialect of its product
 * (Aliyun, Tencent or IotHub). See the package README for a walk-through.
 *
 * ```ts
 * const device = new OtaDevice({ brokerUrl, productKey, deviceName, secret, dialect: 'aliyun',
 *   modules: { default: '1.0.0' }, dataDir: '/var/lib/my-app/ota',
 *   autoUpdate: { install: async (file) => copyFile(file, '/opt/my-app/firmware.bin') } });
 * await device.connect();
 * ```
 *
 * On every (re)connect it subscribes to its task topic(s) and reports the version of every module; the
 * server answers an old version during an upgrade with the task again (freshly signed URL). New tasks arrive
 * as `upgrade` events and, with `autoUpdate`, go through {@link OtaDevice.update}.
 */
export class OtaDevice extends EventEmitter<OtaDeviceEvents> {
  /** The device as the wire names it. */
  readonly device: DeviceRef;
  readonly #options: OtaDeviceOptions;
  readonly #codec: DialectCodec;
  readonly #publicKey: KeyObject | undefined;
  readonly #retry: RetryPolicy;
  readonly #modules: Map<string, string>;
  readonly #pending: PendingReports;
  /** Pending reports loaded at start, forgotten once reported. */
  #unreported: PendingReport[] = [];
  /** Reboot flow: module → version installed, running after the next start. */
  readonly #awaitingReboot = new Map<string, string>();
  readonly #sessions = new Map<string, UpdateSession>();
  #client: MqttClient | undefined;
  #closed = false;

  constructor(options: OtaDeviceOptions) {
    super();
    this.#options = options;
    this.device = { productKey: options.productKey, deviceName: options.deviceName };
    this.#codec = codecFor(options.dialect);
    if (options.dialect === 'tencent' && options.publicKey !== undefined) {
      // `update_firmware` has no field for a signature: every package would fail to verify.
      throw new RangeError('tencent tasks carry no package signature: leave publicKey unset');
    }
    this.#publicKey = options.publicKey === undefined ? undefined : parseEd25519PublicKey(options.publicKey);
    this.#modules = new Map(Object.entries(options.modules));
    if (this.#modules.size === 0)
      throw new TypeError('modules must name at least one module and its version');
    if (options.dialect === 'tencent' && [...this.#modules.keys()].some((m) => m !== DEFAULT_MODULE)) {
      throw new RangeError(`tencent devices report one version: use the module "${DEFAULT_MODULE}" only`);
    }
    this.#retry = {
      attempts: Math.max(1, options.retry?.attempts ?? 5),
      delayMs: options.retry?.delayMs ?? 2000,
      maxDelayMs: options.retry?.maxDelayMs ?? 60_000,
      taskWaitMs: options.retry?.taskWaitMs ?? 30_000,
    };
    this.#pending = new PendingReports(join(options.dataDir, 'pending-reports.json'));
  }

  /** The version each module runs now, as last reported. */
  get modules(): Readonly<Record<string, string>> {
    return Object.fromEntries(this.#modules);
  }

  /** Whether the MQTT connection is up right now. */
  get connected(): boolean {
    return this.#client?.connected ?? false;
  }

  /**
   * The underlying MQTT.js client once `connect()` was called, e.g. to publish the application's own messages
   * on the same connection. Do not end it or unsubscribe the task topics: call {@link OtaDevice.close}.
   */
  get mqtt(): MqttClient | undefined {
    return this.#client;
  }

  /**
   * Applies the versions a reboot flow left to report, then connects with the dialect's credentials.
   * Resolves on the first CONNACK (after the subscriptions and version reports); rejects when the first attempt
   * fails (bad credentials, broker unreachable). After that the connection is kept up by MQTT.js.
   */
  async connect(): Promise<void> {
    if (this.#closed) throw new Error('device is closed');
    if (this.#client) throw new Error('connect() was already called');
    this.#unreported = await this.#pending.load();
    for (const { module, version } of this.#unreported) this.#modules.set(module, version);

    const scheme = this.#options.credentials ?? DEFAULT_CREDENTIALS[this.#options.dialect];
    const credentials = deviceCredentials(
      scheme,
      this.device,
      this.#options.secret,
      this.#options.credentialOptions,
    );
    const { client, ready } = openConnection(
      this.#options.brokerUrl,
      {
        reconnectPeriod: 2000,
        connectTimeout: 10_000,
        ...this.#options.mqtt,
        ...credentials,
        // Subscriptions are renewed in #onConnect, before the version reports that make the server re-push.
        clean: true,
        resubscribe: false,
      },
      {
        onConnect: () => this.#onConnect(),
        onMessage: (topic, payload) => this.#onMessage(topic, payload),
        onOffline: () => this.emit('offline'),
        onError: (error) => this.#emitError(error),
      },
    );
    this.#client = client;
    try {
      await ready;
    } catch (error) {
      this.#client = undefined;
      throw error;
    }
  }

  /**
   * Records that `module` now runs `version` and reports it. Reporting the target version of an upgrade is
   * what makes the server count it as succeeded. Resolves once the broker acknowledged the report.
   */
  async reportVersion(module: string, version: string): Promise<void> {
    if (this.#options.dialect === 'tencent' && module !== DEFAULT_MODULE) {
      throw new RangeError(`tencent devices report one version: use the module "${DEFAULT_MODULE}"`);
    }
    this.#modules.set(module, version);
    await this.#publish(this.#codec.encodeVersion(this.device, { kind: 'version', module, version }));
  }

  /**
   * Asks the server for the pending task of `module` (of any module when omitted). The answer, when there is a
   * task, arrives like a push: an `upgrade` event (or the running update picks up its fresh URL).
   * - Aliyun: publishes `thing.ota.firmware.get`; the server replies on `firmware/get_reply`.
   * - Tencent and IotHub have no request message: the device reports its current version(s) instead, and the
   *   server re-pushes a task that is in flight for it (a queued one is pushed by the rollout engine as soon as
   *   the device is online).
   */
  async requestTask(module?: string): Promise<void> {
    const request = this.#codec.encodeTaskRequest(this.device, {
      kind: 'task_request',
      form: 'firmware_get',
      requestId: Date.now(),
      ...(module === undefined ? {} : { module }),
    });
    if (request) return this.#publish(request);
    const modules = module === undefined ? [...this.#modules.keys()] : [module];
    for (const name of modules) {
      const version = this.#modules.get(name);
      if (version !== undefined) await this.reportVersion(name, version);
    }
  }

  /** A progress reporter for `task`, for applications that run their own update flow. */
  progressFor(task: Pick<UpgradeTask, 'module' | 'version'>): ProgressReporter {
    return new ProgressReporter(task, (report) =>
      this.#publish(this.#codec.encodeProgress(this.device, report)),
    );
  }

  /**
   * Downloads (resumably), verifies and installs `task`, reporting progress and failures, then reports the new
   * version (see {@link Installer.reboot} for the reboot flow). `installer` defaults to `autoUpdate`.
   *
   * - The same package (module + version) already being updated: no second download; the running update takes
   *   this task's fresh URL and its promise is returned.
   * - Another version of the module being updated: that update is aborted (not reported) and this one starts
   *   when it has stopped; an install in progress is let finish first.
   * - Rejects with an {@link UpdateError} after reporting the failure (and emitting `update-failed`).
   */
  update(
    task: UpgradeTask,
    installer: Installer | undefined = this.#options.autoUpdate,
  ): Promise<UpdateResult> {
    if (this.#closed)
      return Promise.reject(new UpdateError('other', 'download', 'device is closed', { aborted: true }));
    if (!installer)
      return Promise.reject(new TypeError('update() needs an installer (or the autoUpdate option)'));
    const previous = this.#sessions.get(task.module);
    if (previous?.version === task.version) {
      previous.offer(task);
      return previous.promise;
    }
    previous?.abort(
      new UpdateError('other', 'download', `superseded by version ${task.version}`, { aborted: true }),
    );
    const session = new UpdateSession(task, async (self) => {
      await previous?.promise.catch(() => {});
      try {
        const result = await runUpdateFlow({
          session: self,
          installer,
          progress: this.progressFor(task),
          downloadDir: join(this.#options.dataDir, 'downloads'),
          publicKey: this.#publicKey,
          download: this.#options.download ?? {},
          retry: this.#retry,
          pending: this.#pending,
          askForTask: (module) => this.requestTask(module),
          confirm: (module, version) => {
            this.reportVersion(module, version).catch((error: unknown) => this.#emitError(error));
          },
          onProgress: (t, percent) => {
            // A throwing listener must not fail the download (nor, from the throttle's timer, crash the process).
            try {
              this.emit('progress', t, percent);
            } catch (error) {
              this.#emitError(error);
            }
          },
        });
        if (result.rebootRequired) {
          this.#awaitingReboot.set(task.module, task.version);
          this.emit('reboot-required', result);
        } else {
          this.emit('updated', result);
        }
        return result;
      } catch (error) {
        const failure =
          error instanceof UpdateError
            ? error
            : new UpdateError('other', 'download', String(error), { cause: error });
        if (!failure.aborted) this.emit('update-failed', self.task, failure);
        throw failure;
      } finally {
        if (this.#sessions.get(task.module) === self) this.#sessions.delete(task.module);
      }
    });
    this.#sessions.set(task.module, session);
    return session.promise;
  }

  /**
   * Stops: running updates are aborted at their next step (downloads keep their checkpoint and resume after
   * the next start; an install in progress is let finish), then the connection is closed, after the reports
   * still in flight were acknowledged (at most `graceMs`, default 5000 ms; at once when offline).
   */
  async close(options: { graceMs?: number } = {}): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const sessions = [...this.#sessions.values()];
    for (const session of sessions) {
      session.abort(new UpdateError('other', 'download', 'device closed', { aborted: true }));
    }
    await Promise.allSettled(sessions.map((s) => s.promise));
    const client = this.#client;
    if (client) await endConnection(client, options.graceMs ?? 5000);
  }

  /** Steps on every (re)connect, in order. */
  async #onConnect(): Promise<void> {
    await this.#subscribeTaskTopics();
    await this.#reportAllVersions();
    await this.#forgetReportedPending();
    this.emit('connect');
  }

  async #subscribeTaskTopics(): Promise<void> {
    const client = this.#client;
    if (!client) return;
    const granted = await client.subscribeAsync([...this.#codec.deviceSubscriptions(this.device)], {
      qos: 1,
    });
    const refused = granted.filter((g) => g.qos === 128);
    if (refused.length) throw new Error(`subscription refused: ${refused.map((g) => g.topic).join(', ')}`);
  }

  async #reportAllVersions(): Promise<void> {
    for (const [module, version] of this.#modules) {
      await this.#publish(this.#codec.encodeVersion(this.device, { kind: 'version', module, version }));
    }
  }

  async #forgetReportedPending(): Promise<void> {
    if (!this.#unreported.length) return;
    const reported = this.#unreported;
    this.#unreported = [];
    await this.#pending.remove(reported);
  }

  #onMessage(topic: string, payload: Uint8Array): void {
    const decoded = this.#codec.decodeServer(topic, payload);
    if (!decoded.ok) return; // e.g. Aliyun echoes of our own publishes, or another dialect's noise
    const message = decoded.message;
    if (message.kind === 'upgrade') this.#onTask(message.task);
    else if (message.kind === 'task_reply' && message.task) this.#onTask(message.task);
  }

  #onTask(task: UpgradeTask): void {
    if (this.#closed) return;
    // Installed, waiting for the reboot that runs it: the next start reports it.
    if (this.#awaitingReboot.get(task.module) === task.version) return;
    // Already running it (our success report crossed the push): prove it again.
    if (this.#modules.get(task.module) === task.version) {
      this.reportVersion(task.module, task.version).catch((error: unknown) => this.#emitError(error));
      return;
    }
    const running = this.#sessions.get(task.module);
    if (running?.version === task.version) {
      running.offer(task);
      return;
    }
    try {
      this.emit('upgrade', task, this.progressFor(task));
    } catch (error) {
      this.#emitError(error);
    }
    if (this.#options.autoUpdate) this.update(task).catch(() => {});
  }

  async #publish(message: OutboundMessage): Promise<void> {
    // Allowed while closing: an install that finishes during close() still reports its version.
    const client = this.#client;
    if (!client) throw new Error('device is not connected: call connect() first');
    await client.publishAsync(message.topic, Buffer.from(message.payload), { qos: message.qos });
  }

  #emitError(error: unknown): void {
    if (this.listenerCount('error') > 0) {
      this.emit('error', error instanceof Error ? error : new Error(String(error)));
    }
  }
}
