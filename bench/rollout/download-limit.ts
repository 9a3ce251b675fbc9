/**
 * Caps how many downloads a fleet process runs at once. Without a cap, a dispatch wave tells all 10,000 devices
 * to download at the same moment: 10,000 HTTP sockets (plus their partial files) on top of 10,000 MQTT sockets
 * would pass the ~19,900 open files one process may hold, in the fleet processes and in the server alike. A
 * few hundred parallel downloads already saturate the route (see the bandwidth probe), so the cap changes when
 * a device starts downloading, not how fast the fleet as a whole is served.
 */
export function limitDownloads(inner: typeof fetch, max: number): typeof fetch {
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
  return async (input, init) => {
    await acquire();
    let response: Response;
    try {
      response = await inner(input, init);
    } catch (error) {
      release();
      throw error;
    }
    if (!response.body) {
      release();
      return response;
    }
    return new Response(releasing(response.body, release), {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}

/** The same body, calling `release` once when it ends, fails or is cancelled: the download's slot is free. */
function releasing(body: ReadableStream<Uint8Array>, release: () => void): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let released = false;
  const done = () => {
    if (released) return;
    released = true;
    release();
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const chunk = await reader.read();
          if (chunk.done) {
            done();
            controller.close();
          } else controller.enqueue(chunk.value);
        } catch (error) {
          done();
          controller.error(error);
        }
      },
      async cancel(reason) {
        done();
        await reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}
