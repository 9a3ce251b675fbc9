import { type CompiledQuery, type Kysely, type KyselyPlugin, type QueryId, sql } from 'kysely';
import { JobMonitor, type JobTab } from '../../packages/server/src/app/jobs/job-monitor.js';
import type { UpgradePage } from '../../packages/server/src/app/ports/job-repository.js';
import type { StoreDialect } from '../../packages/server/src/store/database.js';
import { JobStore } from '../../packages/server/src/store/job-store.js';
import type { Database } from '../../packages/server/src/store/schema.js';
import { UpgradeStore } from '../../packages/server/src/store/upgrade-store.js';

/** A device tab page an endpoint loads. */
export interface TabPage {
  name: string;
  tab: JobTab | 'all';
  page: UpgradePage;
}

/**
 * The statements `run` executes through the `db` it is handed, compiled as they ran, in order. A subquery is part
 * of its statement: only what reached the database counts.
 */
export async function statementsOf(
  db: Kysely<Database>,
  run: (db: Kysely<Database>) => Promise<unknown>,
): Promise<CompiledQuery[]> {
  const executor = db.getExecutor();
  const compiled = new Map<QueryId, CompiledQuery>();
  const executed: CompiledQuery[] = [];
  const capture: KyselyPlugin = {
    transformQuery({ node, queryId }) {
      compiled.set(queryId, executor.compileQuery(node, queryId));
      return node;
    },
    async transformResult({ result, queryId }) {
      const query = compiled.get(queryId);
      if (query) executed.push(query);
      return result;
    },
  };
  await run(db.withPlugin(capture));
  return executed;
}

/**
 * The statements behind the job detail, the device tab pages and one engine tick's reads over the job, captured as
 * the server's own code (JobMonitor over UpgradeStore, as the routes use them) runs them: a slow endpoint can be
 * traced to its statement, and what is explained cannot drift from what runs. Only reads: EXPLAIN ANALYZE runs
 * what it explains.
 */
export async function jobStatements(
  db: Kysely<Database>,
  dialect: StoreDialect,
  jobId: number,
  tabPages: readonly TabPage[],
): Promise<Record<string, CompiledQuery>> {
  const now = Date.now();
  const job = await new JobStore(db).get(jobId);
  if (!job) throw new Error(`job ${jobId} not found`);
  const calls: [string, (upgrades: UpgradeStore) => Promise<unknown>][] = [
    ['detail', (upgrades) => new JobMonitor(upgrades, () => now).detail(job)],
    ...tabPages.map(({ name, tab, page }): [string, (upgrades: UpgradeStore) => Promise<unknown>] => [
      name,
      (upgrades) => new JobMonitor(upgrades, () => now).devices(jobId, tab, page),
    ]),
    // The engine's reads, with its arguments; the job's devices are offline, so the claim claims nothing.
    [
      'engine: claim queued devices that are online',
      (upgrades) => upgrades.claimForDispatch(jobId, 0, 2000, now),
    ],
    ['engine: silent devices (timeouts)', (upgrades) => upgrades.stale(jobId, now - 86_400_000, 1000)],
    ['engine: retries due', (upgrades) => upgrades.retriesDue(jobId, now, 1000)],
    ['engine: retries pending', (upgrades) => upgrades.retriesPending(jobId)],
  ];
  const named: Record<string, CompiledQuery> = {};
  for (const [name, call] of calls) {
    const reads = (await statementsOf(db, (capturing) => call(new UpgradeStore(capturing, dialect)))).filter(
      (query) => /^\s*select\b/i.test(query.sql),
    );
    for (const [i, query] of reads.entries()) {
      named[reads.length > 1 ? `${name} [${i + 1}/${reads.length}]` : name] = query;
    }
  }
  return named;
}

/** The statement, then EXPLAIN QUERY PLAN (SQLite) or EXPLAIN ANALYZE (PostgreSQL), as text lines. */
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
  return [
    query.sql,
    ...result.rows.map((row) => String(dialect === 'postgres' ? row['QUERY PLAN'] : row.detail)),
  ];
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
