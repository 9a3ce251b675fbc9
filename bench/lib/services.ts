import { randomBytes } from 'node:crypto';
import { createConnection } from 'node:net';
import { dropSchema } from '../../packages/server/src/testing/test-server.js';

/** PostgreSQL for scaled mode, from the env var the test suites use, defaulting to this machine's. */
export const POSTGRES_URL = process.env.ALOFT_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** True when something accepts TCP connections at the URL's host and port. */
export function reachable(url: string, defaultPort: number): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = createConnection({ host: hostname, port: Number(port || defaultPort) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** A PostgreSQL schema of its own, so a benchmark never touches another run's tables. */
export function benchSchema(): string {
  return `aloft_bench_${randomBytes(5).toString('hex')}`;
}

export { dropSchema };

/** Upper-case alphanumerics: valid as a product key in every dialect (Tencent wants exactly 10). */
export function uniqueKey(length = 10): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  return Array.from(randomBytes(length), (b) => alphabet[b % alphabet.length]).join('');
}
