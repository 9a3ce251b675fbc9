import type { HttpGet } from './http-get.js';

const EMPTY: AsyncIterable<Uint8Array> = {
  async *[Symbol.asyncIterator]() {},
};

/**
 * An {@link HttpGet} on a `fetch` (the global one, or a test's). Fetch follows redirects itself and adds
 * `Accept-Encoding: identity` to Range requests; its transparent decompression never applies, since raw bytes
 * are asked for and any Content-Encoding is refused. Note that cancelling an undici body does not reliably close
 * its socket: prefer `nodeHttpGet` where that matters.
 */
export function fetchHttpGet(fetchImpl: typeof fetch): HttpGet {
  return async (url, { headers, signal }) => {
    const response = await fetchImpl(url, { headers: { ...headers }, signal });
    const body = response.body;
    return {
      status: response.status,
      header: (name) => response.headers.get(name) ?? undefined,
      body: body ?? EMPTY,
      close: () => {
        // A body that is being read is locked: its reader cancels it when the iteration stops.
        if (body !== null && !body.locked) body.cancel().catch(() => {});
      },
    };
  };
}
