import { randomBytes } from 'node:crypto';
import { codecFor, DIALECTS, type DialectCodec } from '@aloft/protocol';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { DeviceAuthenticator } from '../../packages/server/src/app/device-authenticator.js';
import { noIngestMetrics } from '../../packages/server/src/app/ports/ingest-metrics.js';
import type { RunningServer } from '../../packages/server/src/main.js';
import type { Store } from '../../packages/server/src/store/database.js';
import { DeviceStore } from '../../packages/server/src/store/device-store.js';
import { EmbeddedBroker } from '../../packages/server/src/transport/mqtt/embedded-broker.js';
import { sharedFilter } from '../../packages/server/src/transport/mqtt/external-broker.js';

/**
 * The in-run limit of the ingest benchmark: the same broker delivering the same device traffic to a subscriber that
 * does nothing but count. Whatever the server does on top of that is what the ratio measures.
 */
export interface RawTarget {
  /** Where devices connect. */
  url: string;
  received(): number;
  /** performance.now() of the last message counted. */
  lastAt(): number;
  close(): Promise<void>;
}

const codecs: DialectCodec[] = DIALECTS.map((d) => codecFor(d));

function counter(productKeys: ReadonlySet<string>) {
  let count = 0;
  let last = 0;
  return {
    // The gateway's first step (which codec's topic is it?) and nothing else. Other runs share an external broker:
    // only this run's product keys count.
    see(codec: DialectCodec, topic: string) {
      const device = codec.deviceOf(topic);
      if (device && productKeys.has(device.productKey)) {
        count++;
        last = performance.now();
      }
    },
    received: () => count,
    lastAt: () => last,
  };
}

/** aedes exactly as the server embeds it (device authentication against the store, per-device ACL), no-op subscriber. */
export async function startRawEmbedded(store: Store, productKeys: ReadonlySet<string>): Promise<RawTarget> {
  const logger = pino({ level: 'silent' });
  const broker = await EmbeddedBroker.start({
    host: '127.0.0.1',
    port: 0,
    authenticator: new DeviceAuthenticator(new DeviceStore(store.db, store.dialect)),
    metrics: noIngestMetrics,
    logger,
  });
  const seen = counter(productKeys);
  for (const codec of codecs) await broker.subscribe(codec.inboundFilters, (topic) => seen.see(codec, topic));
  return { url: broker.address, received: seen.received, lastAt: seen.lastAt, close: () => broker.close() };
}

/** A plain MQTT client subscribed as the server's ExternalBroker subscribes (shared, QoS 1, persistent session). */
export async function startRawExternal(url: string, productKeys: ReadonlySet<string>): Promise<RawTarget> {
  const clientId = `aloft-bench-raw-${randomBytes(4).toString('hex')}`;
  const group = `bench${randomBytes(4).toString('hex')}`;
  const client = await mqtt.connectAsync(url, { clientId, clean: false, reconnectPeriod: 0 });
  const seen = counter(productKeys);
  client.on('message', (topic) => {
    for (const codec of codecs) seen.see(codec, topic);
  });
  await client.subscribeAsync(
    codecs.flatMap((c) => c.inboundFilters.map((f) => sharedFilter(f, group))),
    { qos: 1 },
  );
  return {
    url,
    received: seen.received,
    lastAt: seen.lastAt,
    async close() {
      await client.endAsync();
      await purgeSession(url, clientId);
    },
  };
}

/**
 * Ends a persistent (clean: false) session at the broker. Left behind, Mosquitto keeps the session's shared
 * subscriptions and queues every later device message for it, slowing every later run on the shared broker.
 */
export async function purgeSession(url: string, clientId: string): Promise<void> {
  const client = await mqtt.connectAsync(url, { clientId, clean: true, reconnectPeriod: 0 });
  await client.endAsync();
}

/** The MQTT client id the server's ExternalBroker used (not part of its API: the benchmark only needs it to clean up). */
export function externalClientId(server: RunningServer): string | undefined {
  const link = server.broker as unknown as { client?: { options?: { clientId?: string } } };
  return link.client?.options?.clientId;
}
