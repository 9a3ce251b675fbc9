import type { DeviceFaults } from './fault-plan.js';

/** What a {@link SimulatedLink} tells its device about. */
export interface LinkListener {
  /** Bytes of a package body handed to the device (after any fault). */
  onBytes(bytes: number): void;
  /** A download request that resumes at `offset` (`Range: bytes=<offset>-`). */
  onResume(offset: number): void;
  /** The planned connection drop just happened. */
  onDrop(): void;
  /** The device's planned power loss is due now: the link stalls until the request is aborted. */
  onPowerLoss(): void;
}

/** Where a response stops delivering bytes, and how. */
interface Stop {
  /** Absolute byte offset in the package. */
  at: number;
  kind: 'drop' | 'fail' | 'power';
}

/**
 * The HTTP side of a simulated device: a `fetch` for the SDK's downloader (`download.fetchImpl`) that
 * injects the device's faults into real responses from the server, from the outside of the SDK:
 * - a connection drop cuts the body at the planned byte and closes the socket (the server sees an incomplete
 *   response); the SDK checkpoints and resumes with a Range request;
 * - a failing download cuts every response half-way through what it still had to send;
 * - a corrupt download flips the first byte of every response, so the digest check fails;
 * - a power loss stops the bytes at the planned offset and stalls until the device is closed.
 * One link per device, for the life of the simulated device (across its restarts), so a one-off fault
 * happens once.
 */
export class SimulatedLink {
  readonly #faults: DeviceFaults;
  readonly #listener: LinkListener;
  readonly #base: typeof fetch;
  #dropped = false;
  #poweredOff = false;

  constructor(faults: DeviceFaults, listener: LinkListener, base: typeof fetch = fetch) {
    this.#faults = faults;
    this.#listener = listener;
    this.#base = base;
  }

  /** The fetch to hand the SDK. */
  readonly fetch: typeof fetch = async (input, init) => {
    const offset = requestOffset(init?.headers);
    if (offset > 0) this.#listener.onResume(offset);
    const response = await this.#base(input, init);
    const span = response.body === null ? undefined : responseSpan(response);
    // Errors and odd answers go to the SDK untouched: its own checks are part of what is simulated.
    if (span === undefined || response.body === null) return response;
    const body = this.#faultyBody(response.body, span, init?.signal ?? undefined);
    return new Response(body, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };

  /** The first fault due in a response covering `[start, total)`. */
  #nextStop({ start, total }: Span): Stop | undefined {
    const stops: Stop[] = [];
    if (this.#faults.fail === 'download') {
      stops.push({ at: start + Math.floor((total - start) / 2), kind: 'fail' });
    }
    const dropAt = at(this.#faults.dropAt, total);
    if (!this.#dropped && dropAt !== undefined && dropAt >= start) stops.push({ at: dropAt, kind: 'drop' });
    const offlineAt = at(this.#faults.offlineAt, total);
    if (!this.#poweredOff && offlineAt !== undefined && offlineAt >= start) {
      stops.push({ at: offlineAt, kind: 'power' });
    }
    return stops.sort((a, b) => a.at - b.at)[0];
  }

  #faultyBody(
    source: ReadableStream<Uint8Array>,
    span: Span,
    signal: AbortSignal | undefined,
  ): ReadableStream<Uint8Array> {
    const reader = source.getReader();
    const stop = this.#nextStop(span);
    let position = span.start;
    let corrupt = this.#faults.fail === 'verify';
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        // Loop until something is enqueued: a pull that enqueues nothing is not called again.
        for (;;) {
          if (stop !== undefined && position >= stop.at) {
            // Closes the real connection, as a dropped link or a dead device would.
            await reader.cancel().catch(() => {});
            controller.error(await this.#interrupt(stop, signal));
            return;
          }
          const { done, value } = await reader.read();
          if (done) {
            controller.close();
            return;
          }
          let chunk = value;
          if (stop !== undefined && position + chunk.byteLength > stop.at) {
            chunk = chunk.subarray(0, stop.at - position);
          }
          if (corrupt && chunk.byteLength > 0) {
            chunk = chunk.slice();
            chunk[0] = (chunk[0] ?? 0) ^ 0xff;
            corrupt = false;
          }
          position += chunk.byteLength;
          if (chunk.byteLength === 0) continue;
          this.#listener.onBytes(chunk.byteLength);
          controller.enqueue(chunk);
          return;
        }
      },
      cancel: (reason) => reader.cancel(reason),
    });
  }

  /** Carries out a stop; resolves to the error the body fails with. */
  async #interrupt(stop: Stop, signal: AbortSignal | undefined): Promise<unknown> {
    if (stop.kind === 'power') {
      this.#poweredOff = true;
      this.#listener.onPowerLoss();
      // The device is being switched off: nothing more arrives until the SDK aborts the request.
      if (signal !== undefined && !signal.aborted) {
        await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      }
      return signal?.reason ?? connectionReset('simulated power loss');
    }
    if (stop.kind === 'drop') {
      this.#dropped = true;
      this.#listener.onDrop();
      return connectionReset('simulated connection drop');
    }
    return connectionReset('simulated download failure');
  }
}

/** The part of the package a response carries. */
interface Span {
  start: number;
  total: number;
}

function at(fraction: number | undefined, total: number): number | undefined {
  return fraction === undefined ? undefined : Math.floor(fraction * total);
}

function requestOffset(headers: RequestInit['headers']): number {
  const range = new Headers(headers).get('range');
  const match = range === null ? null : /^bytes=(\d+)-/.exec(range);
  return match ? Number(match[1]) : 0;
}

function responseSpan(response: Response): Span | undefined {
  if (response.status === 200) {
    const length = Number(response.headers.get('content-length') ?? Number.NaN);
    return Number.isSafeInteger(length) ? { start: 0, total: length } : undefined;
  }
  if (response.status === 206) {
    const match = /^bytes (\d+)-\d+\/(\d+)$/.exec(response.headers.get('content-range') ?? '');
    return match ? { start: Number(match[1]), total: Number(match[2]) } : undefined;
  }
  return undefined;
}

function connectionReset(message: string): Error {
  return Object.assign(new Error(message), { code: 'ECONNRESET' });
}
