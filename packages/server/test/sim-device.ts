import { randomBytes } from 'node:crypto';
import { deviceCredentials } from '@aloft/protocol';
import mqtt, { type MqttClient } from 'mqtt';
import type { CredentialScheme } from './device-connect.js';

export type SimDialect = 'aliyun' | 'tencent' | 'iothub';

/** A task as a simulated device saw it on the wire. */
export interface SeenTask {
  via: 'push' | 'pull';
  version: string;
  url: string;
  topic: string;
  raw: unknown;
}

/** Per dialect: credentials, the module its firmware names, and a product key the dialect accepts. */
export const DIALECT_SPECS: Record<
  SimDialect,
  { scheme: CredentialScheme; module: string; productKey: () => string }
> = {
  aliyun: { scheme: 'aliyun', module: 'default', productKey: () => `a1${token(9)}` },
  // Tencent product ids are exactly 10 characters.
  tencent: { scheme: 'tencent', module: 'default', productKey: () => token(10).toUpperCase() },
  // IotHub names the module in `type` / `<type>_ver`.
  iothub: { scheme: 'plain', module: 'firmware', productKey: () => `lamp_${token(8)}` },
};

export const SIM_DIALECTS: readonly SimDialect[] = ['aliyun', 'tencent', 'iothub'];

function token(length: number): string {
  return randomBytes(length).toString('hex').slice(0, length);
}

let messageCounter = 0;
const nextId = () => String(++messageCounter);

/**
 * A device that speaks its vendor's raw MQTT payloads (wire-protocols.md), byte for byte what the vendor SDKs
 * publish, through a plain mqtt.js client. It records every task it receives, pushed or pulled.
 */
export class SimDevice {
  readonly tasks: SeenTask[] = [];
  /** Aliyun `firmware/get_reply` payloads, including the empty ones. */
  readonly replies: { code: unknown; data: Record<string, unknown> }[] = [];
  /** Versions this device flashed, in order (set by `autoUpgrade`). */
  readonly installs: string[] = [];
  /** Called when a task arrives and when the device has flashed (before it reports the new version). */
  onActivity: ((what: 'task' | 'flashed') => void) | undefined;
  private client: MqttClient | undefined;
  private auto: { running: string; stepMs: number } | undefined;
  private busy = false;

  constructor(
    readonly dialect: SimDialect,
    readonly productKey: string,
    readonly name: string,
    private readonly secret: string,
    private readonly mqttUrl: string,
  ) {}

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  /**
   * Connects and subscribes to the device's task topics, as the vendor SDK does before anything else. With
   * `persistent` (MQTT clean session off) the broker keeps the subscriptions across reconnects, so a task the
   * server publishes the moment the device reconnects is not lost to the race with the new SUBSCRIBE.
   */
  async connect(options: { persistent?: boolean } = {}): Promise<this> {
    const spec = DIALECT_SPECS[this.dialect];
    const credentials = deviceCredentials(
      spec.scheme,
      { productKey: this.productKey, deviceName: this.name },
      this.secret,
    );
    const client = await mqtt.connectAsync(this.mqttUrl, {
      ...credentials,
      clean: !options.persistent,
      reconnectPeriod: 0,
      connectTimeout: 5000,
    });
    client.on('message', (topic, payload) => this.receive(topic, payload));
    // The broker went away (a killed server): publishing must fail at once, not queue for a reconnect.
    client.on('close', () => {
      if (this.client !== client) return;
      this.client = undefined;
      client.end(true);
    });
    const pk = this.productKey;
    const dn = this.name;
    const filters =
      this.dialect === 'aliyun'
        ? [`/ota/device/upgrade/${pk}/${dn}`, `/sys/${pk}/${dn}/thing/ota/firmware/get_reply`]
        : this.dialect === 'tencent'
          ? [`$ota/update/${pk}/${dn}`]
          : [`cmd/${pk}/${dn}/#`];
    const granted = await client.subscribeAsync(filters, { qos: 1 });
    if (granted.some((g) => g.qos === 128)) throw new Error(`subscription refused for ${dn}`);
    this.client = client;
    return this;
  }

  /** Drops the connection without a DISCONNECT packet's niceties mattering (a power cut, a lost link). */
  async disconnect(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.endAsync(true);
  }

  /** The last task received, or throws. */
  lastTask(): SeenTask {
    const task = this.tasks[this.tasks.length - 1];
    if (!task) throw new Error(`${this.name} has received no task`);
    return task;
  }

  /** Reports the version running in the firmware's module. */
  reportVersion(version: string): Promise<void> {
    const pk = this.productKey;
    const dn = this.name;
    switch (this.dialect) {
      case 'aliyun':
        return this.publish(
          `/ota/device/inform/${pk}/${dn}`,
          JSON.stringify({ id: nextId(), params: { version } }),
        );
      case 'tencent':
        return this.publish(
          `$ota/report/${pk}/${dn}`,
          JSON.stringify({ type: 'report_version', report: { version } }),
        );
      case 'iothub':
        return this.publish(
          `update_status/${pk}/${dn}/${nextId()}`,
          JSON.stringify({ firmware_ver: version }),
        );
    }
  }

  /** Download progress, 1..100. */
  downloading(percent: number, version: string): Promise<void> {
    const pk = this.productKey;
    const dn = this.name;
    switch (this.dialect) {
      case 'aliyun':
        // Aliyun SDKs send the step as a string.
        return this.publish(
          `/ota/device/progress/${pk}/${dn}`,
          JSON.stringify({ id: nextId(), params: { step: String(percent), desc: 'downloading' } }),
        );
      case 'tencent':
        return this.tencentProgress('downloading', String(percent), '0', version);
      case 'iothub':
        return this.publish(
          `update_ota_status/${pk}/${dn}/${nextId()}`,
          JSON.stringify({ type: 'firmware', version, progress: percent, desc: 'downloading' }),
        );
    }
  }

  /** The package is on the device and being written (Tencent `burning`; the others only report 100%). */
  installing(version: string): Promise<void> {
    if (this.dialect === 'tencent') return this.tencentProgress('burning', '100', '0', version);
    return this.downloading(100, version);
  }

  /** Tencent `done`: 100% of the burn, which proves nothing until the version report. */
  done(version: string): Promise<void> {
    if (this.dialect === 'tencent') return this.tencentProgress('done', '100', '0', version);
    return this.downloading(100, version);
  }

  /** The device gives up: a download failure in each vendor's words. */
  fail(version: string): Promise<void> {
    const pk = this.productKey;
    const dn = this.name;
    switch (this.dialect) {
      case 'aliyun':
        return this.publish(
          `/ota/device/progress/${pk}/${dn}`,
          JSON.stringify({ id: nextId(), params: { step: '-2', desc: 'download failed' } }),
        );
      case 'tencent':
        // The C SDK hard-codes "time_out" as the message whatever went wrong.
        return this.tencentProgress('fail', '0', '-1', version, 'time_out');
      case 'iothub':
        return this.publish(
          `update_ota_status/${pk}/${dn}/${nextId()}`,
          JSON.stringify({ type: 'firmware', version, progress: -1, desc: 'download failed' }),
        );
    }
  }

  /** Aliyun only: asks for the pending task (`thing.ota.firmware.get`). */
  pull(): Promise<void> {
    if (this.dialect !== 'aliyun') throw new Error('only Aliyun devices pull their task');
    return this.publish(
      `/sys/${this.productKey}/${this.name}/thing/ota/firmware/get`,
      JSON.stringify({
        id: nextId(),
        version: '1.0',
        params: { module: 'default' },
        method: 'thing.ota.firmware.get',
      }),
    );
  }

  /**
   * Behaves like a healthy device on its own: reports `running` on every connect, and on every task for a version
   * it does not run yet downloads (progress), flashes and reports the new version, `stepMs` between messages. A
   * task for the version it already runs is answered with a version report, as vendor SDKs do.
   */
  autoUpgrade(running: string, stepMs: number): this {
    this.auto = { running, stepMs };
    return this;
  }

  /** The version an auto-upgrading device runs now. */
  get running(): string | undefined {
    return this.auto?.running;
  }

  /** Connects (again) and, when auto-upgrading, reports the running version as an SDK does on connect. */
  async comeOnline(): Promise<void> {
    await this.connect();
    if (this.auto) await this.reportVersion(this.auto.running);
  }

  private async follow(task: SeenTask): Promise<void> {
    const auto = this.auto;
    // Like vendor SDKs, a device busy with an upgrade ignores further tasks.
    if (!auto || !this.client || this.busy) return;
    if (auto.running === task.version) return this.reportVersion(auto.running);
    this.busy = true;
    try {
      const pause = () => new Promise((r) => setTimeout(r, auto.stepMs));
      await pause();
      await this.downloading(50, task.version);
      await pause();
      await this.downloading(100, task.version);
      await pause();
      this.installs.push(task.version);
      auto.running = task.version;
      this.onActivity?.('flashed');
      await this.reportVersion(task.version);
    } finally {
      this.busy = false;
    }
  }

  /** Runs a whole successful upgrade: progress, then the target version (what a healthy device does). */
  async upgradeTo(version: string): Promise<void> {
    await this.downloading(30, version);
    await this.downloading(100, version);
    await this.installing(version);
    await this.reportVersion(version);
  }

  private tencentProgress(
    state: string,
    percent: string,
    resultCode: string,
    version: string,
    message = '',
  ): Promise<void> {
    return this.publish(
      `$ota/report/${this.productKey}/${this.name}`,
      JSON.stringify({
        type: 'report_progress',
        report: {
          progress: { state, percent, result_code: resultCode, result_msg: message },
          version,
        },
      }),
    );
  }

  private async publish(topic: string, payload: string): Promise<void> {
    if (!this.client) throw new Error(`${this.name} is not connected`);
    await this.client.publishAsync(topic, payload, { qos: 1 });
  }

  private receive(topic: string, payload: Buffer): void {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
    } catch {
      return;
    }
    if (this.dialect === 'aliyun') {
      const data = (body.data ?? {}) as Record<string, unknown>;
      if (topic.endsWith('/get_reply')) {
        this.replies.push({ code: body.code, data });
        if (typeof data.url === 'string') this.record('pull', topic, data, data.version, data.url);
        return;
      }
      this.record('push', topic, body, data.version, data.url);
    } else if (this.dialect === 'tencent') {
      if (body.type === 'update_firmware') this.record('push', topic, body, body.version, body.url);
    } else {
      this.record('push', topic, body, body.version, body.url);
    }
  }

  private record(via: SeenTask['via'], topic: string, raw: unknown, version: unknown, url: unknown): void {
    if (typeof version !== 'string' || typeof url !== 'string') return;
    const task = { via, version, url, topic, raw };
    this.tasks.push(task);
    this.onActivity?.('task');
    // A lost connection mid-way is the server's problem to recover from, not the test's.
    this.follow(task).catch(() => {});
  }
}
