import type { DeviceRef, OutboundMessage } from '@aloft/protocol';
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from '../../app/ports/logger.js';
import type { BrokerLink, InboundHandler, PresenceHandler } from './broker-link.js';
import { coalesceWrites } from './write-coalescing.js';

export interface ExternalBrokerOptions {
  url: string;
  username?: string;
  password?: string;
  /** `$share/<group>/…`: every server instance joins the same group, so the broker splits device traffic between them. */
  shareGroup: string;
  /** Unique per instance (MQTT client ids must be). */
  clientId: string;
  /**
   * Topics starting with `$` (Tencent's `$ota/…`). `shared` when the broker delivers them to shared subscriptions
   * (EMQX does). Otherwise (Mosquitto) each instance subscribes to them plainly and receives every message: it
   * handles only those of the devices `owner` says are its own.
   */
  dollarTopics: { shared: true } | { shared: false; owner: DeviceOwner };
  logger: Logger;
}

/** Says which devices this instance handles among those every instance hears from (instance-membership.ts). */
export interface DeviceOwner {
  owns(device: DeviceRef): boolean;
}

/**
 * A link to an external broker (Mosquitto, EMQX, HiveMQ…) as an ordinary MQTT client. It subscribes with shared
 * subscriptions so several server instances split inbound device traffic; what the broker will not share (`$`
 * topics) every instance receives, and each handles its own devices' (`handles`). The broker, not Aloft,
 * authenticates devices and enforces topic ACLs in this mode (docs/operations.md says what to configure).
 */
export class ExternalBroker implements BrokerLink {
  readonly kind = 'external' as const;
  private readonly handlers: { filters: readonly string[]; handler: InboundHandler }[] = [];

  private constructor(
    private readonly client: MqttClient,
    private readonly options: ExternalBrokerOptions,
  ) {
    client.on('message', (topic, payload) => {
      for (const { handler } of this.handlers) handler(topic, payload);
    });
  }

  get address(): string {
    return this.options.url;
  }

  static async connect(options: ExternalBrokerOptions): Promise<ExternalBroker> {
    const client = await mqtt.connectAsync(options.url, {
      clientId: options.clientId,
      ...(options.username !== undefined ? { username: options.username } : {}),
      ...(options.password !== undefined ? { password: options.password } : {}),
      // Clean session: the client id is new on every start, so a persistent session could never be resumed and would
      // only pile up at the broker. While one instance restarts, the others in the share group take its traffic.
      clean: true,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
    });
    coalesceWrites(client.stream);
    client.on('connect', () => coalesceWrites(client.stream));
    client.on('error', (error) => options.logger.error({ err: error }, 'external MQTT broker error'));
    client.on('offline', () => options.logger.warn({ url: options.url }, 'external MQTT broker unreachable'));
    return new ExternalBroker(client, options);
  }

  async subscribe(filters: readonly string[], handler: InboundHandler): Promise<void> {
    this.handlers.push({ filters, handler });
    const { shareGroup, dollarTopics } = this.options;
    const shared = filters.map((f) => sharedFilter(f, shareGroup, dollarTopics.shared));
    const granted = await this.client.subscribeAsync(shared, { qos: 1 });
    const refused = granted.filter((g) => g.qos === 128);
    if (refused.length) {
      throw new Error(
        `The broker refused the subscription(s) ${refused.map((g) => g.topic).join(', ')}: ` +
          'grant the Aloft server user read access to device topics (docs/operations.md)',
      );
    }
  }

  handles(topic: string, device: DeviceRef): boolean {
    const { dollarTopics } = this.options;
    // A `$` topic only ever matches a `$` filter (MQTT 3.1.1 §4.7.2): it came through a plain subscription.
    return dollarTopics.shared || !topic.startsWith('$') || dollarTopics.owner.owns(device);
  }

  onPresence(_handler: PresenceHandler): void {
    // Brokers announce connects differently (EMQX $SYS events, Mosquitto none): presence comes from activity instead.
  }

  async publish(message: OutboundMessage): Promise<void> {
    await this.client.publishAsync(
      message.topic,
      typeof message.payload === 'string' ? message.payload : Buffer.from(message.payload),
      { qos: message.qos },
    );
  }

  health(): string | undefined {
    return this.client.connected ? undefined : `not connected to the MQTT broker at ${this.options.url}`;
  }

  async close(): Promise<void> {
    await this.client.endAsync();
  }
}

/**
 * `$share/<group>/<filter>`, except for filters that begin with `$` (Tencent's `$ota/...`) unless `shareDollarTopics`:
 * Mosquitto 2.0.11 never delivers `$`-topics to a shared subscription (checked with mosquitto_sub here), so those are
 * subscribed plainly, every instance receives them, and each handles only its own devices' (`handles`).
 */
export function sharedFilter(filter: string, group: string, shareDollarTopics = false): string {
  return filter.startsWith('$') && !shareDollarTopics ? filter : `$share/${group}/${filter}`;
}
