/**
 * Child process: a fleet of MQTT devices (plain mqtt.js clients with their vendor's credentials and payloads).
 * Driven by bench/lib/fleet.ts over IPC.
 */
import { type CredentialScheme, codecFor, type Dialect, deviceCredentials } from '@aloft/protocol';
import mqtt, { type MqttClient } from 'mqtt';
import { serve } from './child.js';
import type { ConnectArgs, FleetDevice, Workload } from './fleet.js';
import { progressSteps } from './fleet.js';
import { BENCH_SECRET } from './seed.js';

const SCHEMES: Record<Dialect, CredentialScheme> = { aliyun: 'aliyun', tencent: 'tencent', iothub: 'plain' };

interface Connected {
  device: FleetDevice;
  client: MqttClient;
}

let connected: Connected[] = [];
let prepared: { client: MqttClient; messages: { topic: string; payload: Buffer }[] }[] = [];
let window = 1;

async function connectOne(url: string, device: FleetDevice, args: ConnectArgs): Promise<MqttClient> {
  const ref = { productKey: device.productKey, deviceName: device.deviceName };
  const credentials = deviceCredentials(SCHEMES[device.dialect], ref, BENCH_SECRET);
  const client = await mqtt.connectAsync(url, {
    ...credentials,
    keepalive: args.keepalive,
    reconnectPeriod: 0,
    connectTimeout: 60_000,
    clean: true,
  });
  // Tencent devices get a version ack per report; nothing to do with it, but keep errors from being unhandled.
  client.on('error', () => {});
  const codec = codecFor(device.dialect);
  await client.subscribeAsync([...codec.deviceSubscriptions(ref)], { qos: 1 });
  if (args.reportVersion !== undefined) {
    const report = codec.encodeVersion(ref, {
      kind: 'version',
      module: device.module,
      version: args.reportVersion,
    });
    await client.publishAsync(report.topic, Buffer.from(report.payload), { qos: 1 });
  }
  return client;
}

serve({
  async connect(args: ConnectArgs) {
    const started = performance.now();
    let failed = 0;
    let firstError: string | undefined;
    let next = 0;
    const worker = async () => {
      while (next < args.devices.length) {
        const device = args.devices[next++]!;
        try {
          connected.push({ device, client: await connectOne(args.url, device, args) });
        } catch (error) {
          failed++;
          firstError ??= (error as Error).message;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(args.concurrency, args.devices.length) }, worker));
    return { ms: performance.now() - started, failed, ...(firstError ? { firstError } : {}) };
  },

  prepare(workload: Workload) {
    window = workload.window;
    const taking = workload.kind === 'upgrade' ? connected.filter((c) => c.device.upgrading) : connected;
    prepared = taking.map(({ device, client }) => {
      const codec = codecFor(device.dialect);
      const ref = { productKey: device.productKey, deviceName: device.deviceName };
      const version = (v: string) =>
        codec.encodeVersion(ref, { kind: 'version', module: device.module, version: v });
      const out =
        workload.kind === 'report'
          ? Array.from({ length: workload.count }, (_, i) => version(`${workload.tag}.${i + 1}`))
          : [
              ...progressSteps(workload.count).map((percent) =>
                codec.encodeProgress(ref, {
                  kind: 'progress',
                  module: device.module,
                  version: workload.tag,
                  phase: 'downloading',
                  percent,
                }),
              ),
              version(workload.tag),
            ];
      return { client, messages: out.map((m) => ({ topic: m.topic, payload: Buffer.from(m.payload) })) };
    });
    return { messages: prepared.reduce((n, p) => n + p.messages.length, 0) };
  },

  async go() {
    const started = performance.now();
    const cpu = process.cpuUsage();
    await Promise.all(prepared.map(({ client, messages }) => publishAll(client, messages, window)));
    prepared = [];
    const used = process.cpuUsage(cpu);
    return { ms: performance.now() - started, cpuMs: (used.user + used.system) / 1000 };
  },

  async disconnect() {
    const all = connected;
    connected = [];
    await Promise.all(all.map(({ client }) => client.endAsync(true)));
  },
});

/** Publishes in order at QoS 1, keeping up to `window` publishes waiting for their PUBACK. */
function publishAll(
  client: MqttClient,
  messages: readonly { topic: string; payload: Buffer }[],
  window: number,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let acked = 0;
    const send = () => {
      const message = messages[sent++]!;
      client.publish(message.topic, message.payload, { qos: 1 }, (error) => {
        if (error) return reject(error);
        if (++acked === messages.length) resolve();
        else if (sent < messages.length) send();
      });
    };
    if (!messages.length) return resolve();
    for (let i = 0; i < Math.min(window, messages.length); i++) send();
  });
}
