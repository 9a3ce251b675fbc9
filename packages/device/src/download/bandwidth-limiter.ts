/** A clock the token bucket waits on; tests pass a virtual one whose `sleep` advances `now`. */
export interface LimiterClock {
  /** Milliseconds, monotonic. */
  now(): number;
  /** Resolves after `ms`; rejects with `signal.reason` when the signal aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Real time: `performance.now` and a timer. */
export const realClock: LimiterClock = {
  now: () => performance.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

/** Options for {@link TokenBucket} and {@link createBandwidthLimiter}. */
export interface BandwidthLimitOptions {
  /** Sustained rate. Must be > 0. */
  bytesPerSecond: number;
  /** Largest burst (bucket capacity) and largest slice passed on at once. Default a tenth of a second's worth. */
  burstBytes?: number;
  clock?: LimiterClock;
  /** Aborts a pending wait. */
  signal?: AbortSignal;
}

/**
 * A token bucket: `take(n)` resolves once `n` bytes may pass at `bytesPerSecond`, allowing bursts of up to
 * `burstBytes` after idle time.
 */
export class TokenBucket {
  readonly bytesPerSecond: number;
  readonly burstBytes: number;
  /** How many times `take` had to wait; lets tests check the cap without reading a wall clock. */
  waits = 0;
  readonly #clock: LimiterClock;
  readonly #signal: AbortSignal | undefined;
  #tokens: number;
  #lastRefill: number;

  constructor(options: BandwidthLimitOptions) {
    if (!(options.bytesPerSecond > 0)) throw new RangeError('bytesPerSecond must be > 0');
    this.bytesPerSecond = options.bytesPerSecond;
    this.burstBytes = Math.max(1, Math.floor(options.burstBytes ?? options.bytesPerSecond / 10));
    this.#clock = options.clock ?? realClock;
    this.#signal = options.signal;
    this.#tokens = this.burstBytes;
    this.#lastRefill = this.#clock.now();
  }

  async take(bytes: number): Promise<void> {
    this.#refill();
    if (this.#tokens >= bytes) {
      this.#tokens -= bytes;
      return;
    }
    this.waits++;
    await this.#clock.sleep(((bytes - this.#tokens) * 1000) / this.bytesPerSecond, this.#signal);
    // The wait paid exactly the deficit. Restart accounting from now instead of crediting the elapsed time,
    // which would count the slept time twice (and would never converge with a clock that does not advance).
    this.#tokens = 0;
    this.#lastRefill = this.#clock.now();
  }

  #refill(): void {
    const now = this.#clock.now();
    const elapsed = Math.max(0, now - this.#lastRefill);
    this.#lastRefill = now;
    this.#tokens = Math.min(this.burstBytes, this.#tokens + (elapsed * this.bytesPerSecond) / 1000);
  }
}

/**
 * Passes the chunks of `source` on no faster than the bucket allows (the fleet simulator uses it to model slow
 * cellular links). Chunks are split into slices of at most `burstBytes` so the output stays smooth; slices are
 * views, never copies. The source is read only as fast as the output is consumed, so nothing piles up in memory.
 */
export async function* limitBandwidth(
  source: AsyncIterable<Uint8Array>,
  bucket: TokenBucket,
): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) yield* paced(chunk, bucket);
}

/**
 * {@link limitBandwidth} as a web-stream transform, for bodies read as web streams (e.g. a fetch Response's).
 * Backpressure slows the upstream reader, so nothing piles up in memory.
 */
export function createBandwidthLimiter(
  options: BandwidthLimitOptions | TokenBucket,
): TransformStream<Uint8Array, Uint8Array> {
  const bucket = options instanceof TokenBucket ? options : new TokenBucket(options);
  return new TransformStream<Uint8Array, Uint8Array>({
    async transform(chunk, controller) {
      for await (const slice of paced(chunk, bucket)) controller.enqueue(slice);
    },
  });
}

/** One chunk as slices of at most `burstBytes`, each released when the bucket allows. */
async function* paced(chunk: Uint8Array, bucket: TokenBucket): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < chunk.byteLength; offset += bucket.burstBytes) {
    const slice = chunk.subarray(offset, offset + bucket.burstBytes);
    await bucket.take(slice.byteLength);
    yield slice;
  }
}
