import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';

/** What happens to a connection once it has carried its byte budget towards the device. */
export type CutMode =
  /** Both sides are destroyed, as when the network goes away. */
  | 'drop'
  /** Nothing more is forwarded, the connection stays open (a hung link, or a device about to be killed). */
  | 'stall';

/**
 * A TCP proxy standing for the device's network: the device connects through it to the server (HTTP) or the
 * broker (MQTT), and a test can cut it at an exact point of a transfer. Loopback only.
 */
export interface FlakyLink {
  /** Where the device connects: `${scheme}://127.0.0.1:<port>`. */
  url(scheme: string): string;
  /** Where connections go; may be set after the link listens (the server's port is known only later). */
  setTarget(host: string, port: number): void;
  /**
   * Arms one cut: the first connection that carries `bytes` bytes towards the device (counted from now) is
   * cut there; `then` runs at that moment (e.g. to drop another link too).
   */
  cutAfter(bytes: number, mode: CutMode, then?: () => void): void;
  /** Destroys every open connection. */
  dropAll(): void;
  close(): Promise<void>;
}

export async function startFlakyLink(): Promise<FlakyLink> {
  let target: { host: string; port: number } | undefined;
  let cut: { bytes: number; mode: CutMode; then: (() => void) | undefined } | undefined;
  const pairs = new Set<{ client: Socket; upstream: Socket; sent: number; cut: boolean }>();

  const server: Server = createServer((client) => {
    if (!target) {
      client.destroy();
      return;
    }
    const upstream = tcpConnect(target.port, target.host);
    const pair = { client, upstream, sent: 0, cut: false };
    pairs.add(pair);
    const close = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      const armed = cut;
      if (armed && pair.sent + chunk.length >= armed.bytes) {
        cut = undefined;
        pair.cut = true;
        const keep = Math.max(0, armed.bytes - pair.sent);
        pair.sent += keep;
        // Nothing past the cut is forwarded, whichever the mode.
        upstream.pause();
        upstream.removeAllListeners('data');
        client.write(chunk.subarray(0, keep), () => {
          if (armed.mode === 'drop') close();
          armed.then?.();
        });
        return;
      }
      pair.sent += chunk.length;
      if (!client.write(chunk)) {
        upstream.pause();
        client.once('drain', () => {
          if (!pair.cut) upstream.resume();
        });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  return {
    url: (scheme) => `${scheme}://127.0.0.1:${port}`,
    setTarget(host, targetPort) {
      target = { host, port: targetPort };
    },
    cutAfter(bytes, mode, then) {
      for (const pair of pairs) pair.sent = 0;
      cut = { bytes, mode, then };
    },
    dropAll() {
      for (const { client, upstream } of pairs) {
        client.destroy();
        upstream.destroy();
      }
      pairs.clear();
    },
    async close() {
      for (const { client, upstream } of pairs) {
        client.destroy();
        upstream.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
