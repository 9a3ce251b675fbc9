import type { HttpGet, HttpGetOptions, HttpGetResponse } from '@aloft/device';
import { describe, expect, it } from 'vitest';
import { countFaults, planFaults, seededRandom } from '../src/simulate/fault-plan.js';
import { type LinkListener, SimulatedLink } from '../src/simulate/simulated-link.js';

const SIZE = 10_000;
const PACKAGE = Uint8Array.from({ length: SIZE }, (_, i) => i % 251);

/** What the fake server's responses went through: `close()` calls, the link's way to cut the connection. */
let closed = 0;

/** A fake server: the package (or the asked-for range of it) in 1000-byte chunks, as a socket would deliver it. */
const server: HttpGet = async (_url, options) => {
  const range = options.headers.range;
  const start = range ? Number(/bytes=(\d+)-/.exec(range)?.[1]) : 0;
  const headers: Record<string, string> = { 'content-length': String(SIZE - start) };
  if (start > 0) headers['content-range'] = `bytes ${start}-${SIZE - 1}/${SIZE}`;
  let open = true;
  return {
    status: start > 0 ? 206 : 200,
    header: (name) => headers[name],
    body: (async function* () {
      for (let at = start; at < SIZE && open; at += 1000) yield PACKAGE.slice(at, Math.min(SIZE, at + 1000));
    })(),
    close: () => {
      open = false;
      closed++;
    },
  };
};

const GET = 'http://x/fw';
const options = (extra: Partial<HttpGetOptions> = {}): HttpGetOptions => ({
  headers: {},
  signal: new AbortController().signal,
  ...extra,
});

function recorder(): LinkListener & { events: string[]; bytes: number } {
  const seen = {
    events: [] as string[],
    bytes: 0,
    onBytes: (n: number) => {
      seen.bytes += n;
    },
    onResume: (offset: number) => seen.events.push(`resume ${offset}`),
    onDrop: () => seen.events.push('drop'),
    onPowerLoss: () => seen.events.push('power loss'),
  };
  return seen;
}

/** Reads a body to its end or error: the bytes that arrived, and the error if there was one. */
async function drain(response: HttpGetResponse): Promise<{ bytes: Uint8Array; error?: Error }> {
  const chunks: Uint8Array[] = [];
  try {
    for await (const chunk of response.body) chunks.push(chunk);
    return { bytes: Buffer.concat(chunks) };
  } catch (error) {
    return { bytes: Buffer.concat(chunks), error: error as Error };
  }
}

describe('planFaults', () => {
  it('deals exactly round(fraction × devices) of each fault, and never two failures to one device', () => {
    const plan = planFaults(
      101,
      { failDownload: 0.1, failVerify: 0.2, failInstall: 0.3, drop: 0.5, offline: 0.25 },
      seededRandom(7),
    );
    expect(countFaults(plan)).toEqual({
      failDownload: 10,
      failVerify: 20,
      failInstall: 30,
      drop: 51,
      offline: 25,
    });
    for (const faults of plan) {
      if (faults.dropAt !== undefined) expect(faults.dropAt).toBeGreaterThanOrEqual(0.1);
      if (faults.dropAt !== undefined) expect(faults.dropAt).toBeLessThan(0.9);
    }
  });

  it('deals the same faults for the same seed', () => {
    const fractions = { failInstall: 0.2, drop: 0.3 };
    expect(planFaults(50, fractions, seededRandom(42))).toEqual(planFaults(50, fractions, seededRandom(42)));
    expect(planFaults(50, fractions, seededRandom(42))).not.toEqual(
      planFaults(50, fractions, seededRandom(43)),
    );
  });

  it('refuses failure fractions that add up to more than the fleet', () => {
    expect(() => planFaults(10, { failDownload: 0.6, failInstall: 0.5 }, seededRandom(1))).toThrow(
      /more than 1/,
    );
    expect(() => planFaults(10, { drop: 1.5 }, seededRandom(1))).toThrow(/fraction/);
  });
});

describe('SimulatedLink', () => {
  it('passes a healthy download through untouched', async () => {
    const seen = recorder();
    const { bytes, error } = await drain(await new SimulatedLink({}, seen, server).get(GET, options()));
    expect(error).toBeUndefined();
    expect(Buffer.compare(bytes, PACKAGE)).toBe(0);
    expect(seen.bytes).toBe(SIZE);
  });

  it('drops the connection once at the planned byte; the resumed request runs to the end', async () => {
    const seen = recorder();
    const link = new SimulatedLink({ dropAt: 0.4321 }, seen, server);
    const closedBefore = closed;
    const first = await drain(await link.get(GET, options()));
    expect(first.bytes.byteLength).toBe(4321);
    expect(first.error).toMatchObject({ code: 'ECONNRESET' });
    expect(closed).toBe(closedBefore + 1); // the real connection was closed, not just left unread

    const rest = await drain(await link.get(GET, options({ headers: { range: 'bytes=4321-' } })));
    expect(rest.error).toBeUndefined();
    expect(Buffer.compare(Buffer.concat([first.bytes, rest.bytes]), PACKAGE)).toBe(0);
    expect(seen.events).toEqual(['drop', 'resume 4321']);
  });

  it('cuts every attempt of a failing download half-way through what is left', async () => {
    const link = new SimulatedLink({ fail: 'download' }, recorder(), server);
    const first = await drain(await link.get(GET, options()));
    expect(first.bytes.byteLength).toBe(5000);
    const second = await drain(await link.get(GET, options({ headers: { range: 'bytes=5000-' } })));
    expect(second.bytes.byteLength).toBe(2500);
    expect(second.error).toBeDefined();
  });

  it('flips a byte of a corrupt download, keeping its length', async () => {
    const { bytes, error } = await drain(
      await new SimulatedLink({ fail: 'verify' }, recorder(), server).get(GET, options()),
    );
    expect(error).toBeUndefined();
    expect(bytes.byteLength).toBe(SIZE);
    expect(Buffer.compare(bytes, PACKAGE)).not.toBe(0);
  });

  it('stalls at the power loss until the request is aborted, then fails with the abort reason', async () => {
    const seen = recorder();
    const controller = new AbortController();
    const link = new SimulatedLink({ offlineAt: 0.25 }, seen, server);
    const response = await link.get(GET, options({ signal: controller.signal }));
    const drained = drain(response);
    await expect.poll(() => seen.events).toEqual(['power loss']);
    controller.abort(new Error('device closed'));
    const { bytes, error } = await drained;
    expect(bytes.byteLength).toBe(2500);
    expect(error?.message).toBe('device closed');
  });
});
