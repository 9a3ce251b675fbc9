import { describe, expect, it } from 'vitest';
import { fetchHttpGet } from './fetch-http-get.js';

describe('fetchHttpGet', () => {
  it('passes headers and signal to fetch and reads the answer through it', async () => {
    const seen: RequestInit[] = [];
    const get = fetchHttpGet(async (_url, init) => {
      seen.push(init ?? {});
      return new Response('abc', { status: 206, headers: { 'content-range': 'bytes 7-9/10' } });
    });
    const signal = new AbortController().signal;
    const response = await get('http://x/fw', { headers: { range: 'bytes=7-' }, signal });
    const chunks: Uint8Array[] = [];
    for await (const chunk of response.body) chunks.push(chunk);
    expect([response.status, response.header('content-range'), response.header('x-none')]).toEqual([
      206,
      'bytes 7-9/10',
      undefined,
    ]);
    expect(Buffer.concat(chunks).toString()).toBe('abc');
    expect(new Headers(seen[0]?.headers).get('range')).toBe('bytes=7-');
    expect(seen[0]?.signal).toBe(signal);
  });

  it('cancels an unread body on close()', async () => {
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      cancel: () => {
        cancelled = true;
      },
    });
    const get = fetchHttpGet(async () => new Response(body, { status: 200 }));
    const response = await get('http://x/fw', { headers: {}, signal: new AbortController().signal });
    response.close();
    await expect.poll(() => cancelled).toBe(true);
  });

  it('gives a response without a body an empty one', async () => {
    const get = fetchHttpGet(async () => new Response(null, { status: 416 }));
    const response = await get('http://x/fw', { headers: {}, signal: new AbortController().signal });
    const chunks: Uint8Array[] = [];
    for await (const chunk of response.body) chunks.push(chunk);
    expect(chunks).toEqual([]);
  });
});
