import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HttpGetResponse } from './http-get.js';
import { nodeHttpGet } from './node-http-get.js';

/** A server whose handler each test sets, counting the connections it has open. */
let server: Server;
let base: string;
let handle: (path: string, headers: IncomingHttpHeaders, res: ServerResponse) => void;
let open = 0;

beforeEach(async () => {
  open = 0;
  server = createServer((req, res) => handle(req.url ?? '/', req.headers, res));
  server.on('connection', (socket) => {
    open++;
    socket.once('close', () => open--);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const get = (path: string, headers: Record<string, string> = {}, signal = new AbortController().signal) =>
  nodeHttpGet(`${base}${path}`, { headers, signal });

/** Reads a body to its end or error. */
async function drain(response: HttpGetResponse): Promise<{ bytes: number; error?: unknown }> {
  let bytes = 0;
  try {
    for await (const chunk of response.body) bytes += chunk.byteLength;
    return { bytes };
  } catch (error) {
    return { bytes, error };
  }
}

/** Sends half of a 64 KiB body, then holds the connection open and silent. */
function stallHalfway(res: ServerResponse): void {
  res.writeHead(200, { 'content-length': String(64 * 1024) });
  res.write(Buffer.alloc(32 * 1024, 1));
}

describe('nodeHttpGet', () => {
  it('asks for raw bytes with the given headers, and streams the body', async () => {
    let seen: IncomingHttpHeaders = {};
    handle = (_path, headers, res) => {
      seen = headers;
      res.writeHead(206, { 'content-length': '3', 'content-range': 'bytes 7-9/10' });
      res.end('abc');
    };
    const response = await get('/fw', { range: 'bytes=7-' });
    expect([response.status, response.header('content-range'), response.header('x-none')]).toEqual([
      206,
      'bytes 7-9/10',
      undefined,
    ]);
    expect(await drain(response)).toEqual({ bytes: 3 });
    expect(seen).toMatchObject({ range: 'bytes=7-', 'accept-encoding': 'identity' });
  });

  it('follows redirects (signed URL → CDN), keeping the headers', async () => {
    const paths: string[] = [];
    handle = (path, headers, res) => {
      paths.push(`${path} ${headers.range ?? ''}`);
      if (path === '/signed') res.writeHead(302, { location: '/cdn/fw' }).end();
      else res.writeHead(200, { 'content-length': '2' }).end('ok');
    };
    const response = await get('/signed', { range: 'bytes=0-' });
    expect(response.status).toBe(200);
    expect(await drain(response)).toEqual({ bytes: 2 });
    expect(paths).toEqual(['/signed bytes=0-', '/cdn/fw bytes=0-']);
  });

  it('gives up after five redirects', async () => {
    handle = (_path, _headers, res) => res.writeHead(302, { location: '/again' }).end();
    await expect(get('/loop')).rejects.toThrow(/more than 5 redirects/);
  });

  it('fails the body when the connection breaks before the last byte: never a short success', async () => {
    handle = (_path, _headers, res) => {
      stallHalfway(res);
      setImmediate(() => res.socket?.destroy());
    };
    const { bytes, error } = await drain(await get('/fw'));
    expect(bytes).toBeLessThan(64 * 1024);
    expect(error).toBeInstanceOf(Error);
  });

  it('closes the socket when aborted mid-body, and the body fails with the abort reason', async () => {
    handle = (_path, _headers, res) => stallHalfway(res);
    const controller = new AbortController();
    const response = await get('/fw', {}, controller.signal);
    const iterator = response.body[Symbol.asyncIterator]();
    expect((await iterator.next()).done).toBe(false);
    const reason = new Error('device closed');
    controller.abort(reason);
    await expect(
      (async () => {
        for (;;) if ((await iterator.next()).done) return;
      })(),
    ).rejects.toBe(reason);
    // The server sees the connection go, instead of writing to one nobody reads.
    await expect.poll(() => open).toBe(0);
  });

  it('closes the socket when aborted before the response arrived', async () => {
    handle = () => {}; // never answers
    const controller = new AbortController();
    const pending = get('/fw', {}, controller.signal);
    await expect.poll(() => open).toBe(1);
    controller.abort(new Error('gave up'));
    await expect(pending).rejects.toThrow('gave up');
    await expect.poll(() => open).toBe(0);
  });

  it('closes the socket on close(), whether or not the body was read', async () => {
    handle = (_path, _headers, res) => stallHalfway(res);
    const response = await get('/fw');
    response.close();
    response.close();
    await expect.poll(() => open).toBe(0);
  });

  it('refuses URLs that are not http or https', async () => {
    await expect(
      nodeHttpGet('ftp://example.com/fw', { headers: {}, signal: new AbortController().signal }),
    ).rejects.toThrow(/ftp:/);
  });
});
