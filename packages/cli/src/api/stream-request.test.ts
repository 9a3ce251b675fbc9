import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { streamRequest } from './stream-request.js';

async function* chunks(...parts: string[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield new TextEncoder().encode(part);
}

describe('streamRequest', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  });

  async function listen(handler: (request: IncomingMessage, body: string) => [number, string]): Promise<URL> {
    server = createServer((request, response) => {
      let body = '';
      request.setEncoding('utf8');
      request.on('data', (chunk: string) => {
        body += chunk;
      });
      request.on('end', () => {
        const [status, text] = handler(request, body);
        response.writeHead(status, {
          'content-type': 'application/json',
          'x-seen': request.headers['content-length'] ?? 'none',
        });
        response.end(text);
      });
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return new URL(`http://127.0.0.1:${(server.address() as { port: number }).port}/up`);
  }

  it('sends the chunks in order with the given headers and answers with a fetch Response', async () => {
    const url = await listen((request, body) => [201, JSON.stringify({ method: request.method, body })]);
    const response = await streamRequest(
      url,
      'POST',
      { 'content-length': '11' },
      chunks('hello', ' ', 'world'),
    );
    expect(response.status).toBe(201);
    expect(response.headers.get('x-seen')).toBe('11');
    expect(await response.json()).toEqual({ method: 'POST', body: 'hello world' });
  });

  it('answers 204 with an empty body', async () => {
    const url = await listen(() => [204, '']);
    const response = await streamRequest(url, 'DELETE', {}, chunks());
    expect(response.status).toBe(204);
    expect(await response.text()).toBe('');
  });

  it('rejects with the body’s own error as the cause when the body fails', async () => {
    const url = await listen(() => [200, '{}']);
    const broken = new Error('disk gone');
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield new Uint8Array(3);
      throw broken;
    }
    const error = await streamRequest(url, 'POST', {}, failing()).catch((e: unknown) => e);
    expect((error as Error).cause).toBe(broken);
  });

  it('rejects with the socket error when nothing listens', async () => {
    const url = await listen(() => [200, '{}']);
    await new Promise((resolve) => server!.close(resolve));
    server = undefined;
    const error = await streamRequest(url, 'POST', {}, chunks('x')).catch((e: unknown) => e);
    expect(((error as Error).cause as { code?: string }).code).toBe('ECONNREFUSED');
  });
});
