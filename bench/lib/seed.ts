import type { Dialect } from '@aloft/protocol';
import type { Insertable, Kysely } from 'kysely';
import type { Database, DeviceVersionTable, UpgradeTable } from '../../packages/server/src/store/schema.js';
import { countMoves } from '../../packages/server/src/store/upgrade-counts.js';

/**
 * Seeds rows straight into the store. Benchmarks need 10k–100k devices and upgrades in seconds; the REST and MQTT
 * paths that normally create them are what the benchmarks measure, not how they set up.
 */

/** Rows per INSERT: 1,000 × ~18 columns stays under SQLite's 32,766 and PostgreSQL's 65,535 bound parameters. */
const ROWS_PER_INSERT = 1000;

export const BENCH_SECRET = 'bench-device-secret-0123456789';

export async function seedProduct(db: Kysely<Database>, key: string, dialect: Dialect): Promise<void> {
  await db
    .insertInto('products')
    .values({
      key,
      name: `bench ${key}`,
      dialect,
      signing_public_key: null,
      signing_private_key: null,
      created_at: Date.now(),
    })
    .execute();
}

/** Inserts devices named `names` (all with BENCH_SECRET); returns their ids in the same order. */
export async function seedDevices(
  db: Kysely<Database>,
  productKey: string,
  names: readonly string[],
): Promise<number[]> {
  const now = Date.now();
  const ids: number[] = [];
  await db.transaction().execute(async (trx) => {
    for (let i = 0; i < names.length; i += ROWS_PER_INSERT) {
      const rows = await trx
        .insertInto('devices')
        .values(
          names.slice(i, i + ROWS_PER_INSERT).map((name) => ({
            product_key: productKey,
            name,
            secret: BENCH_SECRET,
            online: 0,
            last_seen_at: null,
            created_at: now,
          })),
        )
        .returning(['id', 'name'])
        .execute();
      const byName = new Map(rows.map((r) => [r.name, Number(r.id)]));
      for (const name of names.slice(i, i + ROWS_PER_INSERT)) ids.push(byName.get(name)!);
    }
  });
  return ids;
}

/** An externally hosted package (no blob needed): what a job points at. */
export async function seedFirmware(
  db: Kysely<Database>,
  productKey: string,
  module: string,
  version: string,
): Promise<number> {
  const row = await db
    .insertInto('firmware')
    .values({
      product_key: productKey,
      module,
      version,
      description: 'benchmark package',
      source_versions: '[]',
      file_name: `fw-${version}.bin`,
      size: 1024,
      md5: null,
      sha256: null,
      blob_key: null,
      external_url: `http://127.0.0.1:9/fw-${version}.bin`,
      signature: null,
      verify_state: 'verified',
      verify_detail: null,
      created_at: Date.now(),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(row.id);
}

export interface JobSeed {
  productKey: string;
  firmwareId: number;
  module: string;
  targetVersion: string;
  selected: number;
  /** When it started (the job detail's throughput window counts from here). */
  startedAt: number;
}

/**
 * A running batch job that has already enrolled its devices (enrolled_until set), with a strategy that neither times
 * out, retries nor aborts during a benchmark: the engine ticks over it as over any running job, and changes nothing.
 * The job and its upgrades are one transaction: a running job seen without its upgrades would be completed by the
 * engine's next tick.
 */
export async function seedRunningJob(
  db: Kysely<Database>,
  job: JobSeed,
  upgrades: (jobId: number) => Insertable<UpgradeTable>[],
): Promise<number> {
  const now = Date.now();
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .insertInto('jobs')
      .values({
        kind: 'batch',
        product_key: job.productKey,
        firmware_id: job.firmwareId,
        module: job.module,
        target_version: job.targetVersion,
        state: 'running',
        name: `bench ${job.targetVersion}`,
        targets: '{}',
        source_versions: '[]',
        strategy: JSON.stringify({ deviceTimeoutSeconds: 86_400, retries: { count: 0, delaySeconds: 60 } }),
        dynamic: 0,
        allow_unverified: 0,
        supersede: 0,
        parent_job_id: null,
        current_group: 0,
        selected: job.selected,
        skipped: 0,
        conflicts: 0,
        reason: null,
        enrolled_until: now,
        created_at: job.startedAt,
        started_at: job.startedAt,
        finished_at: null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const jobId = Number(row.id);
    await seedUpgrades(trx, upgrades(jobId));
    return jobId;
  });
}

/** Upgrade rows, and their jobs' per-state counts as the store keeps them with every upgrade write. */
export async function seedUpgrades(
  db: Kysely<Database>,
  rows: readonly Insertable<UpgradeTable>[],
): Promise<void> {
  await insertChunked(db, 'upgrades', rows);
  await countMoves(
    db,
    rows.map((row) => ({ jobId: Number(row.job_id), from: null, to: row.state })),
  );
}

export async function seedVersions(
  db: Kysely<Database>,
  rows: readonly Insertable<DeviceVersionTable>[],
): Promise<void> {
  await insertChunked(db, 'device_versions', rows);
}

async function insertChunked<T extends 'upgrades' | 'device_versions'>(
  db: Kysely<Database>,
  table: T,
  rows: readonly Insertable<Database[T]>[],
): Promise<void> {
  const insert = async (trx: Kysely<Database>) => {
    for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
      await trx
        .insertInto(table)
        .values(rows.slice(i, i + ROWS_PER_INSERT) as Insertable<Database[T]>[])
        .execute();
    }
  };
  if (db.isTransaction) await insert(db);
  else await db.transaction().execute(insert);
}
