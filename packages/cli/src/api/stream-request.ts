import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/**
 * Sends a request whose body is a stream, through node:http rather than fetch: undici's fetch keeps every chunk
 * of a streamed request body in memory until the request ends (nodejs/undici#4058), which for a firmware upload
 * means the whole file. node:http writes with backpressure and lets each chunk go once it is on the socket.
 * Resolves with a fetch `Response` so callers handle both paths alike.
 */
export function streamRequest(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: AsyncIterable<Uint8Array>,
): Promise<Response> {
  return new Promise((resolve, reject) => {
    const transport = url.protocol === 'https:' ? https : http;
    const request = transport.request(url, { method, headers });
    let answered = false;
    request.on('response', (incoming) => {
      answered = true;
      const status = incoming.statusCode ?? 500;
      const noBody = status === 204 || status === 304 || method === 'HEAD';
      if (noBody) incoming.resume();
      resolve(
        new Response(noBody ? null : (Readable.toWeb(incoming) as ReadableStream<Uint8Array>), {
          status,
          statusText: incoming.statusMessage ?? '',
          headers: toHeaders(incoming.headers),
        }),
      );
    });
    // A failed body (unreadable file) or socket (refused, reset) rejects, unless the server already answered:
    // then its answer (say, a 4xx sent before it read everything) is what the caller needs to see.
    const fail = (error: unknown) => {
      if (!answered) reject(new TypeError('request failed', { cause: error }));
    };
    request.on('error', fail);
    pipeline(Readable.from(body, { objectMode: false }), request).catch((error: unknown) => {
      request.destroy();
      fail(error);
    });
  });
}

function toHeaders(incoming: IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item);
  }
  return headers;
}
