import { type CompiledQuery, type Kysely, sql } from 'kysely';
import type { StoreDialect } from '../../packages/server/src/store/database.js';
import type { Database } from '../../packages/server/src/store/schema.js';

/**
 * The statements behind the job detail, the device list and one engine tick over the job, built as
 * store/upgrade-queries.ts and upgrade-store.ts build them, so a slow endpoint can be traced to its statement.
 * Keep in step with those files.
 */
export function jobQueries(
  db: Kysely<Database>,
  jobId: number,
  offset: number,
): Record<string, CompiledQuery> {
  const now = Date.now();
  const failedTab = db
    .selectFrom('upgrades')
    .where('upgrades.job_id', '=', jobId)
    .where('upgrades.state', 'in', ['failed', 'timed_out']);
  const page = failedTab.select('upgrades.id').orderBy('upgrades.id').limit(50).offset(offset);
  const count = (q: typeof failedTab) => q.select((eb) => eb.fn.countAll<number>().as('n')).compile();
  const byJob = db.selectFrom('upgrades').where('job_id', '=', jobId);
  return {
    'detail: counts per state': byJob
      .select((eb) => ['state', eb.fn.countAll<number>().as('n')])
      .groupBy('state')
      .compile(),
    'detail: succeeded in the last 5 min': count(
      byJob.where('state', '=', 'succeeded').where('finished_at', '>=', now - 5 * 60_000),
    ),
    [`failed tab: page at offset ${offset}`]: db
      .selectFrom('upgrades')
      .innerJoin('devices', 'devices.id', 'upgrades.device_id')
      .leftJoin('device_versions', (join) =>
        join
          .onRef('device_versions.device_id', '=', 'upgrades.device_id')
          .onRef('device_versions.module', '=', 'upgrades.module'),
      )
      .selectAll('upgrades')
      .select(['devices.name as device_name', 'device_versions.version as current_version'])
      .where('upgrades.id', 'in', page)
      .orderBy('upgrades.id')
      .compile(),
    'failed tab: total': count(failedTab),
    'engine: claim queued devices that are online': db
      .selectFrom('upgrades')
      .innerJoin('devices', 'devices.id', 'upgrades.device_id')
      .select(['upgrades.id', 'upgrades.device_id'])
      .where('upgrades.job_id', '=', jobId)
      .where('upgrades.state', '=', 'queued')
      .where('upgrades.group_index', '<=', 0)
      .where('devices.online', '=', 1)
      .orderBy('upgrades.id')
      .limit(2000)
      .compile(),
    'engine: silent devices (timeouts)': byJob
      .selectAll()
      .where('state', 'in', ['notified', 'downloading', 'installing'])
      .where('last_activity_at', '<', now - 86_400_000)
      .limit(1000)
      .compile(),
    'engine: retries due': byJob
      .selectAll()
      .where('state', 'in', ['failed', 'timed_out'])
      .where('retry_at', '<=', now)
      .limit(1000)
      .compile(),
    'engine: retries pending': count(
      byJob.where('state', 'in', ['failed', 'timed_out']).where('retry_at', 'is not', null),
    ),
  };
}

/** EXPLAIN QUERY PLAN (SQLite) or EXPLAIN ANALYZE (PostgreSQL), as text lines. */
export async function explain(
  db: Kysely<Database>,
  dialect: StoreDialect,
  query: CompiledQuery,
): Promise<string[]> {
  const prefix = dialect === 'postgres' ? 'EXPLAIN (ANALYZE, BUFFERS)' : 'EXPLAIN QUERY PLAN';
  const result = await db.executeQuery<Record<string, unknown>>({
    ...query,
    sql: `${prefix} ${query.sql}`,
  } as CompiledQuery<Record<string, unknown>>);
  return result.rows.map((row) => String(dialect === 'postgres' ? row['QUERY PLAN'] : row.detail));
}

/** Median wall time of a query over `runs` executions, ms. */
export async function timeQuery(db: Kysely<Database>, query: CompiledQuery, runs = 5): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await db.executeQuery(query);
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
}

/**
 * What a running deployment's database has done to freshly loaded tables by the time anyone looks: PostgreSQL's
 * autovacuum (visibility map, statistics; within a minute), the server's hourly `PRAGMA optimize` on SQLite.
 */
export async function maintain(db: Kysely<Database>, dialect: StoreDialect): Promise<void> {
  await (dialect === 'postgres' ? sql`VACUUM ANALYZE` : sql`PRAGMA optimize`).execute(db);
}
