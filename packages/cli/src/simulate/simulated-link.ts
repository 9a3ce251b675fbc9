import { type HttpGet, type HttpGetResponse, nodeHttpGet } from '@aloft/device';
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
 * The HTTP side of a simulated device: an {@link HttpGet} for the SDK's downloader (`download.httpGet`) that
 * injects the device's faults into real responses from the server, from the outside of the SDK:
 * - a connection drop cuts the body at the planned byte and closes the socket (the server sees an incomplete
 *   response); the SDK checkpoints and resumes with a Range request;
 * - a failing download cuts every response half-way through what it still had to send;
 * - a corrupt download flips the first byte of every response, so the digest check fails;
 * - a power loss stops the bytes at the planned offset and stalls until the device is closed.
 * One link per device, for the life of the simulated device (across its restarts), so a one-off fault
 * happens once. A healthy response's chunks pass through as they are, only counted.
 */
export class SimulatedLink {
  readonly #faults: DeviceFaults;
  readonly #listener: LinkListener;
  readonly #base: HttpGet;
  #dropped = false;
  #poweredOff = false;

  constructor(faults: DeviceFaults, listener: LinkListener, base: HttpGet = nodeHttpGet) {
    this.#faults = faults;
    this.#listener = listener;
    this.#base = base;
  }

  /** The client to hand the SDK. */
  readonly get: HttpGet = async (url, options) => {
    const offset = requestOffset(options.headers.range);
    if (offset > 0) this.#listener.onResume(offset);
    const response = await this.#base(url, options);
    const span = responseSpan(response);
    // Errors and odd answers go to the SDK untouched: its own checks are part of what is simulated.
    if (span === undefined) return response;
    return {
      status: response.status,
      header: (name) => response.header(name),
      body: this.#faultyBody(response, span, options.signal),
      close: () => response.close(),
    };
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

  async *#faultyBody(response: HttpGetResponse, span: Span, signal: AbortSignal): AsyncGenerator<Uint8Array> {
    const stop = this.#nextStop(span);
    let position = span.start;
    let corrupt = this.#faults.fail === 'verify';
    for await (const received of response.body) {
      let chunk = received;
      if (stop !== undefined && position + chunk.byteLength > stop.at) {
        chunk = chunk.subarray(0, stop.at - position);
      }
      if (corrupt && chunk.byteLength > 0) {
        chunk = chunk.slice();
        chunk[0] = (chunk[0] ?? 0) ^ 0xff;
        corrupt = false;
      }
      position += chunk.byteLength;
      if (chunk.byteLength > 0) {
        this.#listener.onBytes(chunk.byteLength);
        yield chunk;
      }
      if (stop !== undefined && position >= stop.at) {
        // Closes the real connection, as a dropped link or a dead device would.
        response.close();
        throw await this.#interrupt(stop, signal);
      }
    }
  }

  /** Carries out a stop; resolves to the error the body fails with. */
  async #interrupt(stop: Stop, signal: AbortSignal): Promise<unknown> {
    if (stop.kind === 'power') {
      this.#poweredOff = true;
      this.#listener.onPowerLoss();
      // The device is being switched off: nothing more arrives until the SDK aborts the request.
      if (!signal.aborted) {
        await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      }
      return signal.reason;
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

function requestOffset(range: string | undefined): number {
  const match = range === undefined ? null : /^bytes=(\d+)-/.exec(range);
  return match ? Number(match[1]) : 0;
}

function responseSpan(response: HttpGetResponse): Span | undefined {
  if (response.status === 200) {
    const length = Number(response.header('content-length') ?? Number.NaN);
    return Number.isSafeInteger(length) ? { start: 0, total: length } : undefined;
  }
  if (response.status === 206) {
    const match = /^bytes (\d+)-\d+\/(\d+)$/.exec(response.header('content-range') ?? '');
    return match ? { start: Number(match[1]), total: Number(match[2]) } : undefined;
  }
  return undefined;
}

function connectionReset(message: string): Error {
  return Object.assign(new Error(message), { code: 'ECONNRESET' });
}
