import { type ClientRequest, request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { HttpGet, HttpGetResponse } from './http-get.js';

/** Redirects followed before giving up, as fetch does. */
const MAX_REDIRECTS = 5;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/**
 * The default {@link HttpGet}, on `node:http`/`node:https`, with a connection of its own per request that is
 * closed after the response, as a device downloading one package at a time has.
 *
 * Why not the global `fetch` (undici): aborting or cancelling an undici body does not reliably close its socket,
 * so a device that gives up on a stalled download would leave the server writing to a connection nobody reads;
 * here an abort or `close()` destroys the socket, and the server sees the connection go. It is also cheaper per
 * byte: the body is read as it comes off the socket, without the web-stream layers fetch puts around it.
 *
 * Raw bytes are always asked for (`Accept-Encoding: identity`, which fetch only adds to Range requests): byte
 * offsets must be offsets in the file.
 */
export const nodeHttpGet: HttpGet = async (url, options) => {
  let target = new URL(url);
  for (let redirects = 0; ; redirects++) {
    const { request, message } = await send(target, options.headers, options.signal);
    const location = message.headers.location;
    if (REDIRECT_STATUSES.has(message.statusCode ?? 0) && location !== undefined) {
      request.destroy();
      if (redirects >= MAX_REDIRECTS) throw new Error(`more than ${MAX_REDIRECTS} redirects from ${url}`);
      target = new URL(location, target);
      continue;
    }
    return responseOf(request, message, options.signal);
  }
};

function send(
  url: URL,
  headers: Readonly<Record<string, string>>,
  signal: AbortSignal,
): Promise<{ request: ClientRequest; message: IncomingMessage }> {
  signal.throwIfAborted();
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return Promise.reject(new TypeError(`cannot download from a ${url.protocol} URL`));
  }
  return new Promise((resolve, reject) => {
    const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, {
      method: 'GET',
      headers: { 'accept-encoding': 'identity', ...headers },
      // No pooling: the connection is the download's own and goes away with it.
      agent: false,
    });
    // Destroying the request destroys its socket, also once the body is streaming.
    const onAbort = (): void => {
      request.destroy(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    request.once('close', () => signal.removeEventListener('abort', onAbort));
    request.once('response', (message) => resolve({ request, message }));
    // `on`, not `once`: a socket error after the response must not go unhandled and end the process.
    request.on('error', (error) => reject(signal.aborted ? signal.reason : error));
    request.end();
  });
}

function responseOf(request: ClientRequest, message: IncomingMessage, signal: AbortSignal): HttpGetResponse {
  return {
    status: message.statusCode ?? 0,
    header: (name) => {
      const value = message.headers[name];
      return Array.isArray(value) ? value.join(', ') : value;
    },
    body: bodyOf(message, signal),
    close: () => {
      request.destroy();
    },
  };
}

/**
 * The message's chunks as they come off the socket. Errors are the abort reason once the signal aborted (as
 * fetch does), otherwise the connection's own; a connection that closes before the last byte is an error.
 */
async function* bodyOf(message: IncomingMessage, signal: AbortSignal): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of message) yield chunk as Buffer;
  } catch (error) {
    throw signal.aborted ? signal.reason : new Error('the connection broke mid-body', { cause: error });
  }
  if (signal.aborted) throw signal.reason;
  if (!message.complete) throw new Error('the connection closed before the body ended');
}
