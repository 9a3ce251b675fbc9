import type { DeviceRef, OutboundMessage } from '@aloft/protocol';

/** Called for every message a device publishes on a topic the server subscribed to. */
export type InboundHandler = (topic: string, payload: Buffer) => void;

/** Called when the broker tells us a device connected or went away (embedded broker only). */
export type PresenceHandler = (device: DeviceRef, online: boolean) => void;

/**
 * The server's connection to device traffic, whichever broker carries it: the embedded aedes broker, or an external
 * one (Mosquitto, EMQX…) reached as a client with shared subscriptions.
 */
export interface BrokerLink {
  /** `embedded` knows connects and disconnects; `external` only sees messages. */
  readonly kind: 'embedded' | 'external';
  /** Where devices connect, for messages to the operator. */
  readonly address: string;
  subscribe(filters: readonly string[], handler: InboundHandler): Promise<void>;
  /**
   * Whether this instance is the one to handle a message from `device` on `topic`. Always, when the broker gives each
   * message to one instance (the embedded broker, shared subscriptions); for a topic the broker delivers to every
   * instance, only on the instance that owns the device.
   */
  handles(topic: string, device: DeviceRef): boolean;
  onPresence(handler: PresenceHandler): void;
  publish(message: OutboundMessage): Promise<void>;
  /** Undefined when healthy, else why not. */
  health(): string | undefined;
  close(): Promise<void>;
}
