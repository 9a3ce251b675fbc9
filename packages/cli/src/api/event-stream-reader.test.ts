import { describe, expect, it } from 'vitest';
import { readEventStream, type ServerSentEvent } from './event-stream-reader.js';

async function read(...chunks: string[]): Promise<ServerSentEvent[]> {
  async function* body(): AsyncGenerator<Uint8Array> {
    for (const chunk of chunks) yield new TextEncoder().encode(chunk);
  }
  const events: ServerSentEvent[] = [];
  for await (const event of readEventStream(body())) events.push(event);
  return events;
}

describe('readEventStream', () => {
  it('reads what the Aloft server sends: retry, comments, pings and id/data events', async () => {
    const events = await read(
      'retry: 2000\n: connected\n\n',
      'id: 7\ndata: {"id":7}\n\n: ping\n\n',
      'id: 8\ndata: {"id":8}\n\n',
    );
    expect(events).toEqual([
      { id: '7', event: 'message', data: '{"id":7}' },
      { id: '8', event: 'message', data: '{"id":8}' },
    ]);
  });

  it('joins data lines, accepts CRLF and CR line ends even split across chunks, and keeps the last id', async () => {
    const events = await read('id: 1\r', '\ndata: a\r\ndata:b\r\rdata: c', '\n\nevent: custom\ndata\n\n');
    expect(events).toEqual([
      { id: '1', event: 'message', data: 'a\nb' },
      { id: '1', event: 'message', data: 'c' },
      { id: '1', event: 'custom', data: '' },
    ]);
  });

  it('decodes a character split between chunks', async () => {
    const bytes = new TextEncoder().encode('data: ü\n\n');
    async function* body(): AsyncGenerator<Uint8Array> {
      yield bytes.subarray(0, 7);
      yield bytes.subarray(7);
    }
    const events: ServerSentEvent[] = [];
    for await (const event of readEventStream(body())) events.push(event);
    expect(events.map((e) => e.data)).toEqual(['ü']);
  });

  it('drops an event the stream ended in the middle of', async () => {
    expect(await read('data: complete\n\ndata: cut off')).toEqual([
      { id: undefined, event: 'message', data: 'complete' },
    ]);
  });
});
