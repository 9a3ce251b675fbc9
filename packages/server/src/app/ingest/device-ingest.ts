import type { DeviceMessage, DeviceRef, Dialect } from '@aloft/protocol';
import type { DeviceEvent, DeviceEventSink } from '../ports/device-event-sink.js';
import type { DeviceRepository } from '../ports/device-repository.js';
import type { IngestMetrics } from '../ports/ingest-metrics.js';
import type { Logger } from '../ports/logger.js';
import type { PresenceWrite, TelemetryWriter, VersionWrite } from '../ports/telemetry-writer.js';

type Pending =
  | { kind: 'messages'; dialect: Dialect; device: DeviceRef; messages: DeviceMessage[]; at: number }
  | { kind: 'presence'; device: DeviceRef; online: boolean; at: number };

export interface DeviceIngestOptions {
  devices: DeviceRepository;
  telemetry: TelemetryWriter;
  sink: DeviceEventSink;
  metrics: IngestMetrics;
  logger: Logger;
  /** How long to gather messages before writing them (ms). 0 = next tick. */
  batchMs: number;
  /** Write as soon as this many messages are waiting. */
  batchMax: number;
}

/**
 * The ingest path: gathers decoded device messages for a few milliseconds and writes them in one statement per
 * batch (per-message statements would cap throughput far below the broker's; see architecture.md), then hands the
 * resolved events to the rollout engine. Devices are resolved per batch in one query, so there is no cache to go stale.
 */
export class DeviceIngest {
  private queue: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly options: DeviceIngestOptions) {}

  /** Decoded messages from one device. */
  accept(dialect: Dialect, device: DeviceRef, messages: DeviceMessage[], at: number): void {
    for (const m of messages) this.options.metrics.messageIn(m.kind);
    this.enqueue({ kind: 'messages', dialect, device, messages, at });
  }

  /** A device connected or disconnected (embedded broker), or its session ended. */
  presence(device: DeviceRef, online: boolean, at: number): void {
    this.enqueue({ kind: 'presence', device, online, at });
  }

  /** Writes everything queued so far; resolves when it is in the database. */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const batch = this.queue;
    this.queue = [];
    this.flushing = this.flushing.then(() => (batch.length ? this.write(batch) : undefined));
    return this.flushing;
  }

  /** Stops taking messages and writes what is pending. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  private enqueue(item: Pending): void {
    if (this.closed) return;
    this.queue.push(item);
    if (this.queue.length >= this.options.batchMax) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.options.batchMs);
  }

  private async write(batch: Pending[]): Promise<void> {
    const { devices, telemetry, sink, metrics, logger } = this.options;
    const started = performance.now();
    try {
      const resolved = await devices.resolveMany(batch.map((p) => p.device));
      const versions: VersionWrite[] = [];
      const presence: PresenceWrite[] = [];
      const events: DeviceEvent[] = [];
      for (const item of batch) {
        const key = `${item.device.productKey}/${item.device.deviceName}`;
        const device = resolved.get(key);
        if (!device) {
          metrics.refused('unknown_device');
          logger.warn({ device: key }, 'message from an unknown device dropped');
          continue;
        }
        if (item.kind === 'presence') {
          presence.push({ deviceId: device.id, online: item.online, at: item.at });
          if (item.online) events.push({ kind: 'online', deviceId: device.id, at: item.at });
          continue;
        }
        if (device.dialect !== item.dialect) {
          metrics.refused('wrong_dialect');
          logger.warn(
            { device: key, dialect: item.dialect, expected: device.dialect },
            'message in the wrong dialect dropped',
          );
          continue;
        }
        presence.push({ deviceId: device.id, online: true, at: item.at });
        for (const message of item.messages) {
          const event = toEvent(device.id, item.device, message, item.at);
          if (event) events.push(event);
          if (message.kind === 'version') {
            versions.push({
              deviceId: device.id,
              module: message.module,
              version: message.version,
              at: item.at,
            });
          }
        }
      }
      if (versions.length || presence.length) await telemetry.writeBatch(versions, presence);
      metrics.batchWritten(batch.length, (performance.now() - started) / 1000);
      if (events.length) await sink.handle(events);
    } catch (error) {
      // A failed batch must not stop the ingest; devices re-report versions on every reconnect.
      logger.error({ err: error, size: batch.length }, 'ingest batch failed');
    }
  }
}

function toEvent(
  deviceId: number,
  device: DeviceRef,
  message: DeviceMessage,
  at: number,
): DeviceEvent | undefined {
  switch (message.kind) {
    case 'version':
      return { kind: 'version', deviceId, module: message.module, version: message.version, at };
    case 'progress':
      return { kind: 'progress', deviceId, report: message, at };
    case 'task_request':
      return {
        kind: 'task_request',
        deviceId,
        productKey: device.productKey,
        deviceName: device.deviceName,
        request: message,
        at,
      };
    default:
      // Block downloads over MQTT are answered by the gateway, not the ingest.
      return undefined;
  }
}
