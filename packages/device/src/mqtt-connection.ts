import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';

/** What a device does with its connection's events. */
export interface ConnectionHandlers {
  /** Runs after every CONNACK (the first and each reconnect), e.g. subscribe and report. */
  onConnect(): Promise<void>;
  onMessage(topic: string, payload: Uint8Array): void;
  onOffline(): void;
  /** Errors after the first attempt succeeded; MQTT.js keeps reconnecting. */
  onError(error: unknown): void;
}

/**
 * Opens an MQTT.js connection that MQTT.js keeps up. `ready` settles on the first attempt: it resolves once
 * `onConnect` finished, and rejects (and ends the client) when the broker refuses or cannot be reached, or
 * `onConnect` fails. `client` is there at once, so `onConnect` can publish with it.
 */
export function openConnection(
  url: string,
  options: IClientOptions,
  handlers: ConnectionHandlers,
): { client: MqttClient; ready: Promise<void> } {
  const client = mqtt.connect(url, options);
  client.on('message', (topic, payload) => handlers.onMessage(topic, payload));
  client.on('offline', () => handlers.onOffline());
  const ready = new Promise<void>((resolve, reject) => {
    let first = true;
    const settle = (error?: unknown): void => {
      if (!first) {
        if (error !== undefined) handlers.onError(error);
        return;
      }
      first = false;
      if (error === undefined) {
        resolve();
        return;
      }
      client.end(true);
      reject(error);
    };
    client.on('connect', () => {
      handlers.onConnect().then(() => settle(), settle);
    });
    client.on('error', settle);
  });
  return { client, ready };
}

/**
 * MQTT.js's graceful `end()` waits for every unacknowledged QoS 1 message, forever when the broker is gone:
 * give it `graceMs`, then cut the connection.
 */
export async function endConnection(client: MqttClient, graceMs: number): Promise<void> {
  if (!client.connected) {
    await client.endAsync(true);
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<'expired'>((resolve) => {
    timer = setTimeout(() => resolve('expired'), graceMs);
  });
  const outcome = await Promise.race([client.endAsync(false), expired]);
  clearTimeout(timer);
  if (outcome === 'expired') client.stream?.destroy();
}
