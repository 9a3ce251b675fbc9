import { request } from 'node:http';

/** What one process measured fetching the package over and over. */
export interface ProbeResult {
  bytes: number;
  downloads: number;
  ms: number;
  errors: number;
}

/**
 * `concurrency` loops, each fetching the whole package from the signed URL on a fresh connection (as a device
 * does), discarding the bytes, until `durationMs` has passed. The client does no hashing or disk writes, so
 * this is the ceiling of the server's download route with this many parallel downloads: the bound a rollout
 * of 1 MiB packages cannot beat.
 */
export async function probeBandwidth(
  url: string,
  concurrency: number,
  durationMs: number,
): Promise<ProbeResult> {
  const started = performance.now();
  const until = started + durationMs;
  const result: ProbeResult = { bytes: 0, downloads: 0, ms: 0, errors: 0 };
  const loop = async () => {
    while (performance.now() < until) {
      try {
        // Read first, then add: `result.bytes += await …` would read the total before the await and lose
        // what other loops added meanwhile.
        const bytes = await fetchOnce(url);
        result.bytes += bytes;
        result.downloads++;
      } catch {
        result.errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  result.ms = performance.now() - started;
  return result;
}

function fetchOnce(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false }, (response) => {
      let bytes = 0;
      response.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
      });
      response.once('end', () =>
        response.statusCode === 200 ? resolve(bytes) : reject(new Error(`HTTP ${response.statusCode}`)),
      );
      response.once('error', reject);
    });
    req.once('error', reject);
    req.end();
  });
}
