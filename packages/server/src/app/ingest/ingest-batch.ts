import type { DeviceMessage, DeviceRef, Dialect } from '@aloft/protocol';
import type { DeviceEvent, DeviceEventSink } from '../ports/device-event-sink.js';
import type { DeviceRepository } from '../ports/device-repository.js';
import type { IngestMetrics } from '../ports/ingest-metrics.js';
import type { Logger } from '../ports/logger.js';
import type { PresenceWrite, TelemetryWriter, VersionWrite } from '../ports/telemetry-writer.js';

/** What the ingest gathers until it writes a batch: a device's decoded messages, or its presence changing. */
export type Pending =
  | { kind: 'messages'; dialect: Dialect; device: DeviceRef; messages: DeviceMessage[]; at: number }
  | { kind: 'presence'; device: DeviceRef; online: boolean; at: number };

export interface IngestBatchDeps {
  devices: Pick<DeviceRepository, 'resolveMany'>;
  telemetry: Pick<TelemetryWriter, 'writeBatch'>;
  sink: DeviceEventSink;
  metrics: IngestMetrics;
  logger: Logger;
}

/** What a batch took in once written and handed to the sink. */
export interface IngestBatchWritten {
  /** Device messages applied: from known devices in their product's dialect (dropped ones are not counted). */
  messages: number;
}

/**
 * Writes one batch: resolves its devices in one query, writes versions and presence in one transaction, then hands
 * the resolved events, in arrival order, to the sink. Messages from unknown devices or in another dialect than the
 * device's product are dropped and counted.
 */
export async function writeIngestBatch(
  deps: IngestBatchDeps,
  batch: readonly Pending[],
): Promise<IngestBatchWritten> {
  const { devices, telemetry, sink, metrics, logger } = deps;
  const started = performance.now();
  const resolved = await devices.resolveMany(batch.map((p) => p.device));
  const versions: VersionWrite[] = [];
  const presence: PresenceWrite[] = [];
  const events: DeviceEvent[] = [];
  let messages = 0;
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
    messages += item.messages.length;
    for (const message of item.messages) {
      const event = toEvent(device.id, item.device, message, item.at);
      if (event) events.push(event);
      if (message.kind === 'version') {
        versions.push({ deviceId: device.id, module: message.module, version: message.version, at: item.at });
      }
    }
  }
  if (versions.length || presence.length) await telemetry.writeBatch(versions, presence);
  metrics.batchWritten(batch.length, (performance.now() - started) / 1000);
  if (events.length) await sink.handle(events);
  return { messages };
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
