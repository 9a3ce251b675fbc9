import { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { coalesceWrites } from './write-coalescing.js';

/** A socket stand-in that records each system-call-sized write it is handed. */
function recordingStream() {
  const writes: string[] = [];
  const stream = new Duplex({
    read() {},
    writev(chunks, callback) {
      writes.push(chunks.map((c) => String(c.chunk)).join(''));
      callback();
    },
    write(chunk, _encoding, callback) {
      writes.push(String(chunk));
      callback();
    },
  });
  return { stream, writes };
}

/** What mqtt-packet does for each packet: cork, write its pieces, uncork on the next tick. */
function sendPacket(stream: Duplex, name: string) {
  stream.cork();
  stream.write(`${name}:`);
  stream.write(`${name};`);
  process.nextTick(() => stream.uncork());
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
const nextTick = () => new Promise((resolve) => process.nextTick(resolve));

/** Acks as mqtt.js sends them: each once the message before it was handled, a few ticks apart, in one loop turn. */
async function sendAcks(stream: Duplex, names: string[]) {
  for (const name of names) {
    sendPacket(stream, name);
    await nextTick();
    await nextTick();
  }
}

describe('coalesceWrites', () => {
  it('sends the packets of one event-loop turn in one write', async () => {
    const { stream, writes } = recordingStream();
    coalesceWrites(stream);
    await sendAcks(stream, ['a', 'b', 'c']);
    await nextTurn();
    await nextTurn();
    expect(writes).toEqual(['a:a;b:b;c:c;']);
    sendPacket(stream, 'd');
    await nextTurn();
    await nextTurn();
    expect(writes).toEqual(['a:a;b:b;c:c;', 'd:d;']);
  });

  it('without it, each packet is a write of its own', async () => {
    const { stream, writes } = recordingStream();
    await sendAcks(stream, ['a', 'b']);
    await nextTurn();
    expect(writes).toEqual(['a:a;', 'b:b;']);
  });

  it('lets end() flush and finish at once', async () => {
    const { stream, writes } = recordingStream();
    coalesceWrites(stream);
    sendPacket(stream, 'disconnect');
    const finished = new Promise((resolve) => stream.on('finish', resolve));
    stream.end();
    await finished;
    expect(writes.join('')).toBe('disconnect:disconnect;');
  });
});
