import type { Duplex } from 'node:stream';

const coalescing = new WeakSet<Duplex>();

/**
 * Makes a client socket send what it is given during one turn of the event loop in one write. mqtt-packet corks the
 * stream for each packet and uncorks it on the next tick, so every PUBACK the server owes the broker for a QoS 1
 * device message became its own `writev` system call: 16 % of the server's CPU in scaled mode (bench/ingest.ts
 * profile). Holding the stream corked until after the I/O phase lets the acks of every message read in that phase leave
 * together; the delay is one loop turn.
 */
export function coalesceWrites(stream: Duplex): void {
  if (coalescing.has(stream) || typeof stream.cork !== 'function') return;
  coalescing.add(stream);
  const cork = stream.cork.bind(stream);
  const uncork = stream.uncork.bind(stream);
  let held = false;
  // One extra cork around everything corked in this turn, released after the I/O phase. The packets' own
  // cork/uncork pairs nest inside it. `end()` uncorks fully, so closing never waits for it.
  stream.cork = () => {
    if (!held) {
      held = true;
      cork();
      setImmediate(() => {
        held = false;
        uncork();
      });
    }
    cork();
  };
}
