import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { type AloftConfig, loadConfig } from '../config/config.js';
import { type RunningServer, type ServerHooks, startServer } from '../main.js';
import { openStore } from '../store/database.js';
import { MOSQUITTO, POSTGRES, serviceUrl } from './services.js';

export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789';

export interface TestServer {
  server: RunningServer;
  config: AloftConfig;
  /** Calls the management API as the admin; returns status and parsed JSON. */
  api<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  /** Where a device connects (the embedded broker, or the external one). */
  mqttUrl: string;
  close(): Promise<void>;
}

export interface TestServerOptions {
  store?: 'sqlite' | 'postgres';
  broker?: 'embedded' | 'external';
  /** Reuse a PostgreSQL schema (several instances sharing one database). */
  schema?: string;
  overrides?: Partial<AloftConfig>;
  /** Sees every download response (e.g. to assert a resume was a Range request). */
  onDownload?: ServerHooks['onDownload'];
}

/** Which real-service combinations are available: always embedded+SQLite; scaled when the env vars are set. */
export function serverModes(): {
  name: string;
  store: 'sqlite' | 'postgres';
  broker: 'embedded' | 'external';
  available: boolean;
}[] {
  const scaled = serviceUrl(POSTGRES) !== undefined && serviceUrl(MOSQUITTO) !== undefined;
  return [
    { name: 'embedded broker + SQLite', store: 'sqlite', broker: 'embedded', available: true },
    { name: 'Mosquitto + PostgreSQL', store: 'postgres', broker: 'external', available: scaled },
  ];
}

/** A fresh PostgreSQL schema name for one test. */
export function testSchema(): string {
  return `aloft_test_${randomBytes(6).toString('hex')}`;
}

/** Starts a real server on OS-assigned ports with its own data dir (and its own PostgreSQL schema). */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'aloft-test-'));
  const postgresUrl = options.store === 'postgres' ? serviceUrl(POSTGRES) : undefined;
  const mqttUrl = options.broker === 'external' ? serviceUrl(MOSQUITTO) : undefined;
  if (options.store === 'postgres' && !postgresUrl) throw new Error('PostgreSQL is not configured');
  if (options.broker === 'external' && !mqttUrl) throw new Error('external broker is not configured');
  const schema = postgresUrl ? (options.schema ?? testSchema()) : undefined;
  const config = loadConfig({
    env: {},
    overrides: {
      httpHost: '127.0.0.1',
      httpPort: 0,
      mqttHost: '127.0.0.1',
      mqttPort: 0,
      dataDir,
      adminToken: TEST_ADMIN_TOKEN,
      logLevel: 'silent',
      ingestBatchMs: 2,
      ...(postgresUrl ? { databaseUrl: postgresUrl, databaseSchema: schema } : {}),
      ...(mqttUrl ? { mqttUrl, mqttShareGroup: `g${randomBytes(4).toString('hex')}` } : {}),
      ...options.overrides,
    },
  });
  const server = await startServer(config, options.onDownload ? { onDownload: options.onDownload } : {});
  return {
    server,
    config,
    mqttUrl: server.mqttAddress,
    async api<T>(method: string, path: string, body?: unknown) {
      const response = await fetch(`${server.httpUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${TEST_ADMIN_TOKEN}`,
          ...(body !== undefined && typeof body !== 'string' ? { 'content-type': 'application/json' } : {}),
          ...(typeof body === 'string' ? { 'content-type': 'text/csv' } : {}),
        },
        ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
      });
      const text = await response.text();
      return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
    },
    async close() {
      await server.close();
      if (postgresUrl && schema && !options.schema) await dropSchema(postgresUrl, schema);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export async function dropSchema(url: string, schema: string): Promise<void> {
  const store = await openStore({ url, migrate: false });
  await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(store.db);
  await store.close();
}

/** Polls until `check` returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined | false>,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * A product key no other test uses. Test servers sharing one external broker each receive every device message
 * (each has its own share group), so tests must not reuse product keys. Tencent product ids are 10 characters.
 */
export function uniqueProductKey(length = 10): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  return Array.from(randomBytes(length), (b) => alphabet[b % alphabet.length]).join('');
}
