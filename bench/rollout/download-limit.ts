import type { HttpGet, HttpGetResponse } from '../../packages/device/src/index.js';

/**
 * Caps how many downloads a fleet process runs at once. Without a cap, a dispatch wave tells all 10,000 devices
 * to download at the same moment: 10,000 HTTP sockets (plus their partial files) on top of 10,000 MQTT sockets
 * would pass the ~19,900 open files one process may hold, in the fleet processes and in the server alike. A
 * few hundred parallel downloads already saturate the route (see the bandwidth probe), so the cap changes when
 * a device starts downloading, not how fast the fleet as a whole is served. The wait for a slot happens inside
 * the device's HTTP client, where the SDK's idle timer runs: the fleet processes give their devices an idle
 * timeout longer than any such wait.
 */
export function limitDownloads(inner: HttpGet, max: number): HttpGet {
  let active = 0;
  const waiting: (() => void)[] = [];
  const acquire = (): Promise<void> => {
    if (active < max) {
      active++;
      return Promise.resolve();
    }
    return new Promise((resolve) => waiting.push(resolve));
  };
  const release = () => {
    const next = waiting.shift();
    // The slot passes straight to the next waiter, so `active` stays as it is.
    if (next) next();
    else active--;
  };
  return async (url, options) => {
    await acquire();
    let response: HttpGetResponse;
    try {
      response = await inner(url, options);
    } catch (error) {
      release();
      throw error;
    }
    let released = false;
    const done = () => {
      if (released) return;
      released = true;
      release();
    };
    return {
      status: response.status,
      header: (name) => response.header(name),
      body: releasing(response.body, done),
      close: () => {
        done();
        response.close();
      },
    };
  };
}

/** The same body, calling `done` when it ends, fails or is left: the download's slot is free. */
async function* releasing(body: AsyncIterable<Uint8Array>, done: () => void): AsyncGenerator<Uint8Array> {
  try {
    yield* body;
  } finally {
    done();
  }
}
