import { codecFor, DIALECTS, type DialectCodec } from '@aloft/protocol';
import type { Clock } from '../../app/clock.js';
import type { DeviceIngest } from '../../app/ingest/device-ingest.js';
import type { IngestMetrics } from '../../app/ports/ingest-metrics.js';
import type { Logger } from '../../app/ports/logger.js';
import type { BrokerLink } from './broker-link.js';

export interface GatewayOptions {
  broker: BrokerLink;
  ingest: DeviceIngest;
  metrics: IngestMetrics;
  logger: Logger;
  clock: Clock;
}

/**
 * The MQTT gateway: subscribes every dialect's device topics, decodes at the edge, and hands the internal
 * vocabulary to the ingest. Answers that need no database (Tencent's report_version_rsp) go straight back.
 */
export class MqttGateway {
  private readonly codecs: DialectCodec[] = DIALECTS.map((d) => codecFor(d));

  constructor(private readonly options: GatewayOptions) {}

  async start(): Promise<void> {
    const { broker, ingest } = this.options;
    broker.onPresence((device, online) => ingest.presence(device, online, this.options.clock()));
    for (const codec of this.codecs) {
      await broker.subscribe(codec.inboundFilters, (topic, payload) => this.receive(codec, topic, payload));
    }
  }

  private receive(codec: DialectCodec, topic: string, payload: Buffer): void {
    const { metrics, logger, ingest, broker } = this.options;
    // Several dialects may share a broker: only the codec whose topics these are decodes it.
    const device = codec.deviceOf(topic);
    if (!device) return;
    // A topic every instance receives is handled (decoded, written, acknowledged) by the device's owner alone.
    if (!broker.handles(topic, device)) return;
    const decoded = codec.decode(topic, payload);
    if (!decoded.ok) {
      metrics.decodeError(codec.dialect, decoded.code);
      logger.warn(
        { dialect: codec.dialect, topic, code: decoded.code, reason: decoded.reason },
        'device message refused',
      );
      return;
    }
    ingest.accept(codec.dialect, decoded.device, decoded.messages, this.options.clock());
    for (const message of decoded.messages) {
      if (message.kind !== 'version') continue;
      const ack = codec.encodeVersionAck(decoded.device, message);
      if (ack) {
        broker
          .publish(ack)
          .catch((error: unknown) => logger.warn({ err: error, topic: ack.topic }, 'version ack not sent'));
      }
    }
  }
}
