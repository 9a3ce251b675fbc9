import { describe, expect, it } from 'vitest';
import { createBandwidthLimiter, limitBandwidth, TokenBucket } from './bandwidth-limiter.js';
import { virtualClock } from './testing/fixtures.js';

/** A bucket that records each release with the virtual time it happened at. */
class RecordingBucket extends TokenBucket {
  readonly released: Array<{ at: number; bytes: number }> = [];
  readonly #clock: { now(): number };

  constructor(options: ConstructorParameters<typeof TokenBucket>[0] & { clock: { now(): number } }) {
    super(options);
    this.#clock = options.clock;
  }

  override async take(bytes: number): Promise<void> {
    await super.take(bytes);
    this.released.push({ at: this.#clock.now(), bytes });
  }
}

/** Pushes chunks of the given sizes through a limiter; returns the sizes that came out. */
async function pump(chunks: number[], bucket: TokenBucket): Promise<number[]> {
  const source = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const size of chunks) controller.enqueue(new Uint8Array(size));
      controller.close();
    },
  });
  const out: number[] = [];
  for await (const slice of source.pipeThrough(createBandwidthLimiter(bucket))) out.push(slice.byteLength);
  return out;
}

describe('bandwidth limiter', () => {
  it('paces an async-iterable body the same way, in slices that are views of the chunks', async () => {
    const clock = virtualClock();
    const bucket = new TokenBucket({ bytesPerSecond: 10_000, burstBytes: 2_000, clock });
    const chunks = [new Uint8Array(5_000).fill(1), new Uint8Array(3_000).fill(2)];
    const slices: Uint8Array[] = [];
    for await (const slice of limitBandwidth(
      (async function* () {
        yield* chunks;
      })(),
      bucket,
    )) {
      slices.push(slice);
    }
    expect(slices.map((s) => s.byteLength)).toEqual([2_000, 2_000, 1_000, 2_000, 1_000]);
    expect(slices[0]?.buffer).toBe(chunks[0]?.buffer);
    expect(Buffer.concat(slices).equals(Buffer.concat(chunks))).toBe(true);
    // 8,000 bytes at 10,000 B/s with a 2,000-byte head start: at least 0.6 virtual seconds of waiting.
    expect(clock.now()).toBeGreaterThanOrEqual(600 - 1e-6);
  });

  it('never lets more than rate + burst through in any virtual second', async () => {
    const clock = virtualClock();
    const bucket = new RecordingBucket({ bytesPerSecond: 10_000, burstBytes: 2_000, clock });
    const out = await pump([50_000, 1, 7_000, 30_000, 13_000], bucket);

    const total = out.reduce((sum, bytes) => sum + bytes, 0);
    expect(total).toBe(100_001);
    expect(Math.max(...out)).toBeLessThanOrEqual(2_000);
    const emitted = bucket.released;
    for (const { at: windowStart } of emitted) {
      // Half-open virtual second; the epsilon keeps float rounding of the sleep sums out of it.
      const inWindow = emitted
        .filter((e) => e.at >= windowStart && e.at < windowStart + 1000 - 1e-6)
        .reduce((sum, e) => sum + e.bytes, 0);
      expect(inWindow).toBeLessThanOrEqual(10_000 + 2_000);
    }
    // 100,001 bytes at 10,000 B/s with a 2,000-byte head start take at least 9.8 virtual seconds.
    expect(clock.now()).toBeGreaterThanOrEqual(((total - 2_000) / 10_000) * 1000 - 1e-6);
    expect(bucket.waits).toBeGreaterThan(40);
  });

  it('does not wait while the stream stays under the rate', async () => {
    const clock = virtualClock();
    const bucket = new TokenBucket({ bytesPerSecond: 1_000, burstBytes: 1_000, clock });
    await bucket.take(1_000);
    clock.sleeps.length = 0;
    for (let i = 0; i < 5; i++) {
      await clock.sleep(1_000); // the app idles a second…
      await bucket.take(900); // …then reads less than a second's worth
    }
    expect(bucket.waits).toBe(0);
  });

  it('waits exactly for the deficit', async () => {
    const clock = virtualClock();
    const bucket = new TokenBucket({ bytesPerSecond: 1_000, burstBytes: 500, clock });
    await bucket.take(500);
    await bucket.take(250);
    expect(clock.sleeps).toEqual([250]);
  });

  it('keeps the rate with a clock that does not advance while sleeping', async () => {
    const sleeps: number[] = [];
    const bucket = new TokenBucket({
      bytesPerSecond: 1_000,
      burstBytes: 100,
      clock: { now: () => 0, sleep: async (ms) => void sleeps.push(ms) },
    });
    for (let i = 0; i < 10; i++) await bucket.take(100);
    // The first 100 bytes ride the burst; each later 100 waits 100 ms, no more (no debt snowball).
    expect(sleeps).toEqual(Array.from({ length: 9 }, () => 100));
  });

  it('stops waiting when its signal aborts', async () => {
    const controller = new AbortController();
    const bucket = new TokenBucket({ bytesPerSecond: 1, burstBytes: 1, signal: controller.signal });
    await bucket.take(1);
    const pending = bucket.take(1_000_000);
    controller.abort(new Error('stop'));
    await expect(pending).rejects.toThrow('stop');
  });

  it('rejects a non-positive rate', () => {
    expect(() => new TokenBucket({ bytesPerSecond: 0 })).toThrow(RangeError);
  });
});
