import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, type SqliteDatabase, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { migrateToLatest } from './migrate.js';
import type { Database } from './schema.js';

export type StoreDialect = 'sqlite' | 'postgres';

/** An open database: the query builder, which dialect it speaks, and how to close it. */
export interface Store {
  db: Kysely<Database>;
  dialect: StoreDialect;
  close(): Promise<void>;
}

export interface OpenStoreOptions {
  /** `postgres://…` / `postgresql://…` for PostgreSQL; a file path (or `sqlite:<path>`, `:memory:`) for SQLite. */
  url: string;
  /** PostgreSQL schema to use (created when missing); lets tests and several deployments share a database. */
  schema?: string;
  /** Run migrations on open (default true). */
  migrate?: boolean;
  /** PostgreSQL pool size (default 10). */
  poolSize?: number;
}

const INT8_OID = 20;
const NUMERIC_OID = 1700;

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//.test(url);
}

/** Opens SQLite (WAL) or PostgreSQL and migrates it to the latest schema. */
export async function openStore(options: OpenStoreOptions): Promise<Store> {
  const store = isPostgresUrl(options.url) ? await openPostgres(options) : openSqlite(options.url);
  if (options.migrate !== false) {
    try {
      await migrateToLatest(store.db, store.dialect);
    } catch (error) {
      await store.close();
      throw error;
    }
  }
  return store;
}

function openSqlite(url: string): Store {
  const file = url.replace(/^sqlite:(\/\/)?/, '');
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const database = new SQLite(file);
  // WAL + synchronous=NORMAL: crash-safe (a power cut may lose the last commits, never corrupt) and ~40k writes/s here.
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(database) }) });
  // Planner statistics. Without them SQLite takes `job_id = ?` for selective and reads every in-flight and failed row
  // of a 100,000-device job for the engine's timeout and retry checks each tick (66–97 ms a tick against 47 ms with
  // them, bench/api.ts). SQLite's advice: `PRAGMA optimize` at open and periodically; it only analyzes tables that
  // changed enough, reading a bounded sample. Through Kysely, so it waits for any transaction in progress.
  const optimize = () =>
    sql`PRAGMA optimize`.execute(db).catch(() => {
      // Statistics are an optimization; a busy or closing database just skips this round.
    });
  database.pragma('optimize = 0x10002');
  const optimizer = setInterval(optimize, SQLITE_OPTIMIZE_EVERY_MS);
  optimizer.unref();
  return {
    db,
    dialect: 'sqlite',
    close: () => {
      clearInterval(optimizer);
      return db.destroy();
    },
  };
}

const SQLITE_OPTIMIZE_EVERY_MS = 3_600_000;

/** Prepared statements kept per SQL text; past this many the oldest is dropped (IN lists vary in length). */
const STATEMENT_CACHE_SIZE = 500;

/**
 * Kysely's SQLite driver prepares every query anew; compiling the SQL was ~15 % of the CPU of an upgrade-progress
 * message (bench/ingest.ts profile). Reusing statements is safe because the driver runs one query at a time
 * (a connection mutex) and SQLite re-prepares a statement itself after a schema change.
 */
function withStatementCache(database: SQLite.Database): SqliteDatabase {
  const cache = new Map<string, SQLite.Statement>();
  return {
    close: () => database.close(),
    prepare(text) {
      let statement = cache.get(text);
      if (!statement) {
        statement = database.prepare(text);
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
        cache.set(text, statement);
      }
      return statement;
    },
  };
}

async function openPostgres(options: OpenStoreOptions): Promise<Store> {
  const schema = options.schema;
  if (schema !== undefined && !/^[a-z_][a-z0-9_]*$/.test(schema)) {
    throw new Error(`Invalid PostgreSQL schema name "${schema}": use lower-case letters, digits and _`);
  }
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
    // Epoch-millisecond bigints fit a JS number; parse them as numbers instead of strings.
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID || oid === NUMERIC_OID
          ? (value: string) => Number(value)
          : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
    },
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  try {
    if (schema) await sql`CREATE SCHEMA IF NOT EXISTS ${sql.id(schema)}`.execute(db);
    else await sql`SELECT 1`.execute(db);
  } catch (error) {
    await db.destroy();
    throw new Error(`Cannot connect to PostgreSQL at ${redact(options.url)}: ${(error as Error).message}`);
  }
  return { db, dialect: 'postgres', close: () => db.destroy() };
}

/** The URL without its password, for messages. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}
