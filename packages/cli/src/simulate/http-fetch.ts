import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** Redirects followed before giving up, as fetch does (signed URL → CDN). */
const MAX_REDIRECTS = 5;
/** Statuses whose Response must have no body. */
const NULL_BODY = new Set([101, 204, 205, 304]);

/**
 * The simulated devices' HTTP client: a `fetch` for GET downloads on `node:http`, with one TCP connection per
 * request, like a real device's. The global fetch (undici) pools connections across the whole process, so
 * thousands of simulated devices would share a handful of sockets; and cancelling an undici body does not
 * reliably close its socket, so an injected connection drop would leave the server writing to a connection
 * nobody reads. Here, cancelling the body or aborting the request destroys the socket: the server sees the
 * connection go, as it would when a device's link breaks.
 */
export function createHttpFetch(): typeof fetch {
  return async (input, init) => {
    let url = new URL(input instanceof Request ? input.url : String(input));
    const headers = Object.fromEntries(new Headers(init?.headers).entries());
    const signal = init?.signal ?? undefined;
    for (let redirects = 0; ; redirects++) {
      const response = await get(url, headers, signal);
      const location = response.headers.location;
      if (
        response.statusCode !== undefined &&
        response.statusCode >= 300 &&
        response.statusCode < 400 &&
        location
      ) {
        response.destroy();
        if (redirects >= MAX_REDIRECTS)
          throw new TypeError('fetch failed', { cause: new Error('too many redirects') });
        url = new URL(location, url);
        continue;
      }
      return toResponse(response);
    }
  };
}

function get(
  url: URL,
  headers: Record<string, string>,
  signal: AbortSignal | undefined,
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, {
      method: 'GET',
      headers,
      // A connection of its own, closed after the response: no pooling across simulated devices.
      agent: false,
      ...(signal ? { signal } : {}),
    });
    request.once('response', resolve);
    // `on`, not `once`: a socket error after the response must not go unhandled and end the process.
    request.on('error', (error) => {
      reject(signal?.aborted ? signal.reason : new TypeError('fetch failed', { cause: error }));
    });
    request.end();
  });
}

function toResponse(message: IncomingMessage): Response {
  const status = message.statusCode ?? 500;
  const headers = new Headers();
  for (const [name, value] of Object.entries(message.headers)) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item);
  }
  if (NULL_BODY.has(status)) {
    message.destroy();
    return new Response(null, { status, statusText: message.statusMessage ?? '', headers });
  }
  return new Response(bodyOf(message), { status, statusText: message.statusMessage ?? '', headers });
}

/** Bytes queued per response before the socket is paused (TCP then slows the server down). */
const QUEUE_BYTES = 64 * 1024;

/**
 * The body as a web stream with real backpressure: Node 20's `Readable.toWeb` counts its high-water mark in
 * chunks rather than bytes, so a thousand parallel downloads would each buffer everything the server sends.
 * Cancelling the stream destroys the message, and with it the socket.
 */
function bodyOf(message: IncomingMessage): ReadableStream<Uint8Array> {
  let settled = false;
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        const fail = (error: unknown) => {
          if (settled) return;
          settled = true;
          controller.error(new TypeError('terminated', { cause: error }));
        };
        message.on('data', (chunk: Buffer) => {
          controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
          if ((controller.desiredSize ?? 0) <= 0) message.pause();
        });
        message.once('end', () => {
          if (settled) return;
          settled = true;
          controller.close();
        });
        message.on('error', fail);
        // A connection that closes before the last byte ends the body with an error, never a short success.
        message.once('close', () => {
          if (!message.complete) fail(new Error('the connection closed before the body ended'));
        });
      },
      pull() {
        message.resume();
      },
      cancel() {
        settled = true;
        message.destroy();
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark: QUEUE_BYTES }),
  );
}
