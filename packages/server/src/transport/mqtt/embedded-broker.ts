import { createServer, type Server } from 'node:net';
import {
  codecFor,
  type DeviceRef,
  type DialectCodec,
  grantSubscription,
  mayPublish,
  type OutboundMessage,
} from '@aloft/protocol';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import type { DeviceAuthenticator } from '../../app/device-authenticator.js';
import type { IngestMetrics } from '../../app/ports/ingest-metrics.js';
import type { Logger } from '../../app/ports/logger.js';
import type { BrokerLink, InboundHandler, PresenceHandler } from './broker-link.js';

/** What the broker learned about a client at CONNECT. */
interface Session {
  device: DeviceRef;
  codec: DialectCodec;
}

export interface EmbeddedBrokerOptions {
  host: string;
  port: number;
  authenticator: DeviceAuthenticator;
  metrics: IngestMetrics;
  logger: Logger;
}

/**
 * Messages aedes' bus (mqemitter) keeps in flight before queueing the rest; aedes' default is 100. A delivery to a
 * device's socket holds its slot until written, so with 100 a burst of acks to devices queued every other message
 * behind them, and that queue (an array shifted once per message) took a quarter of the ingest's CPU
 * (bench/ingest.ts: 105–138 µs of server CPU per message with 100, 64–76 µs with 10,000). A slot is a packet
 * already in memory; it also takes far more slow devices to stall delivery for everyone (see aedes' `drainTimeout`).
 */
const BUS_CONCURRENCY = 10_000;

/** MQTT CONNACK return code 5 (3.1.1) "not authorized"; 4 is "bad user name or password". */
const BAD_CREDENTIALS = 4;

/** Raised when the MQTT port is taken, with advice the operator can act on. */
export class BrokerPortInUseError extends Error {
  constructor(host: string, port: number) {
    super(
      `MQTT port ${port} on ${host} is already in use (another broker, such as Mosquitto, may be running).\n` +
        `  Either point Aloft at that broker:   ALOFT_MQTT_URL=mqtt://127.0.0.1:${port} npm start\n` +
        `  or run the embedded broker elsewhere: ALOFT_MQTT_PORT=1884 npm start`,
    );
    this.name = 'BrokerPortInUseError';
  }
}

/**
 * The embedded broker: aedes in-process. It authenticates every device against the database with its dialect's
 * credential scheme, and confines each to its own topics (ACL from the dialect codec). The server's own
 * subscriptions are in-process (no network hop, no credentials).
 */
export class EmbeddedBroker implements BrokerLink {
  readonly kind = 'embedded' as const;
  private presence: PresenceHandler = () => {};

  private constructor(
    private readonly aedes: Aedes,
    private readonly server: Server,
    readonly address: string,
  ) {}

  static async start(options: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
    const { authenticator, metrics, logger } = options;
    let broker: EmbeddedBroker | undefined;
    const sessions = new WeakMap<Client, Session>();
    const aedes = await Aedes.createBroker({
      concurrency: BUS_CONCURRENCY,
      authenticate: (client, username, password, done) => {
        const refuse = (reason: string, device?: DeviceRef) => {
          metrics.refused(reason);
          logger.warn({ clientId: client.id, device, reason }, 'MQTT connection refused');
          const error = new Error(reason) as AuthenticateError;
          error.returnCode = BAD_CREDENTIALS;
          done(error, false);
        };
        authenticator
          .authenticate(client.id, username ?? '', password?.toString('utf8') ?? '')
          .then((result) => {
            if (!result.ok) return refuse(result.reason, result.device);
            sessions.set(client, { device: result.device, codec: codecFor(result.dialect) });
            done(null, true);
          })
          .catch((error: unknown) => {
            logger.error({ err: error, clientId: client.id }, 'MQTT authentication failed');
            refuse('auth_error');
          });
      },
      authorizePublish: (client, packet, done) => {
        const session = client && sessions.get(client);
        if (!session) return done(); // the server's own publishes
        if (mayPublish(session.codec, session.device, packet.topic)) return done();
        metrics.refused('acl_publish');
        logger.warn(
          { device: session.device, topic: packet.topic },
          'publish outside the device’s topics refused',
        );
        done(new Error(`publish to ${packet.topic} not allowed`));
      },
      authorizeSubscribe: (client, subscription, done) => {
        const session = sessions.get(client);
        // LinkSDK subscribes `/ota/device/upgrade/+/+`: granted narrowed to the device's own topic, never as asked.
        const granted = session && grantSubscription(session.codec, session.device, subscription.topic);
        if (granted) return done(null, { ...subscription, topic: granted });
        metrics.refused('acl_subscribe');
        logger.warn(
          { device: session?.device, topic: subscription.topic },
          'subscription outside the device’s topics refused',
        );
        // A null subscription makes aedes answer SUBACK 0x80 (failure) without dropping the client.
        done(null, null);
      },
    });
    // mqemitter hands a queued message on by recursing into the next one when every subscriber answered
    // synchronously, or when there is none — as for the `$SYS/<id>/disconnect/clients` notice of every disconnect.
    // Once BUS_CONCURRENCY messages are in flight the rest queue, and a burst of those (3,000 devices dropping at once
    // while acks were being delivered, bench/ingest.ts, with aedes' default of 100) overflowed the stack and killed
    // the server. A subscriber to everything that answers on the next tick while messages are queued turns that
    // recursion into a loop; with nothing queued it answers at once, so nothing piles up behind it.
    // aedes keeps its mqemitter as `mq` without typing it; `length` is the number of messages queued.
    const bus = (aedes as unknown as { mq: { length: number } }).mq;
    await new Promise<void>((resolve) =>
      aedes.subscribe(
        '#',
        (_packet, callback) => (bus.length > 0 ? process.nextTick(callback) : callback()),
        resolve,
      ),
    );
    const server = createServer(aedes.handle);
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) =>
        reject(error.code === 'EADDRINUSE' ? new BrokerPortInUseError(options.host, options.port) : error),
      );
      server.listen(options.port, options.host, () => resolve());
    });
    const bound = server.address();
    const port = typeof bound === 'object' && bound ? bound.port : options.port;
    broker = new EmbeddedBroker(
      aedes,
      server,
      `mqtt://${options.host === '0.0.0.0' ? '127.0.0.1' : options.host}:${port}`,
    );
    aedes.on('clientReady', (client) => {
      const session = sessions.get(client);
      if (session) broker?.presence(session.device, true);
    });
    aedes.on('clientDisconnect', (client) => {
      const session = sessions.get(client);
      if (session) broker?.presence(session.device, false);
    });
    return broker;
  }

  /** The TCP port devices connect to. */
  get port(): number {
    const bound = this.server.address();
    return typeof bound === 'object' && bound ? bound.port : 0;
  }

  async subscribe(filters: readonly string[], handler: InboundHandler): Promise<void> {
    for (const filter of filters) {
      await new Promise<void>((resolve) =>
        this.aedes.subscribe(
          filter,
          (packet, callback) => {
            handler(
              packet.topic,
              Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload),
            );
            callback();
          },
          resolve,
        ),
      );
    }
  }

  /** One broker, one server: every message is this instance's. */
  handles(): boolean {
    return true;
  }

  onPresence(handler: PresenceHandler): void {
    this.presence = handler;
  }

  publish(message: OutboundMessage): Promise<void> {
    return new Promise((resolve, reject) =>
      this.aedes.publish(
        {
          cmd: 'publish',
          topic: message.topic,
          payload:
            typeof message.payload === 'string' ? Buffer.from(message.payload) : Buffer.from(message.payload),
          qos: message.qos,
          retain: false,
          dup: false,
        },
        (error) => (error ? reject(error) : resolve()),
      ),
    );
  }

  health(): string | undefined {
    return this.server.listening ? undefined : 'embedded MQTT broker is not listening';
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.aedes.close(() => resolve()));
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
