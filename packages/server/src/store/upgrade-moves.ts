import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { UpgradeMove } from '../app/ports/job-repository.js';
import type { StoreDialect } from './database.js';
import { type JsonColumnType, jsonRows } from './json-rows.js';
import type { Database, UpgradeEventTable } from './schema.js';
import { addCounts, type CountDelta, countDeltas } from './upgrade-counts.js';
import { TERMINAL } from './upgrade-rows.js';

/** An upgrade's whole move folded into one row write: compare-and-set on the first step, the last step's values. */
type MoveRow = {
  id: number;
  expect_state: string;
  expect_phase: string | null;
  expect_percent: number | null;
  state: string;
  phase: string | null;
  percent: number | null;
  active: number;
  last_activity_at: number;
  finished_at: number | null;
  /** 1 when a step sets the column (null included), 0 to keep the stored value: JSON rows read absent as null. */
  sets_error_code: number;
  error_code: string | null;
  sets_error_message: number;
  error_message: string | null;
  sets_retry_at: number;
  retry_at: number | null;
  notified_at: number | null;
  attempt: number | null;
};

const MOVE_COLUMNS = {
  id: 'bigint',
  expect_state: 'text',
  expect_phase: 'text',
  expect_percent: 'integer',
  state: 'text',
  phase: 'text',
  percent: 'integer',
  active: 'integer',
  last_activity_at: 'bigint',
  finished_at: 'bigint',
  sets_error_code: 'integer',
  error_code: 'text',
  sets_error_message: 'integer',
  error_message: 'text',
  sets_retry_at: 'integer',
  retry_at: 'bigint',
  notified_at: 'bigint',
  attempt: 'integer',
} as const satisfies Record<keyof MoveRow, JsonColumnType>;

/** One step's history row but its job and device, which come from the upgrade row written. */
type StepRow = Omit<UpgradeEventTable, 'id' | 'job_id' | 'device_id' | 'from_state'> & {
  /** Position in the batch: history ids follow the steps' order. */
  seq: number;
  /** A step always moves from a stored state (only an upgrade's creation has none). */
  from_state: string;
};

const STEP_COLUMNS = {
  seq: 'integer',
  upgrade_id: 'bigint',
  from_state: 'text',
  to_state: 'text',
  phase: 'text',
  percent: 'integer',
  error_code: 'text',
  message: 'text',
  at: 'bigint',
} as const satisfies Record<keyof StepRow, JsonColumnType>;

const COUNT_COLUMNS = { job_id: 'bigint', state: 'text', n: 'integer' } as const satisfies Record<
  keyof CountDelta,
  JsonColumnType
>;

/**
 * Writes many upgrades' moves — the ingest path applies a whole batch of device reports this way. Each upgrade is
 * compare-and-set on its first step's `expect` and written with its last step's values; its later steps expect the
 * earlier ones' results, so they are applied with it or not at all, with a history row per step and the job's counts
 * moved. Returns the ids applied. Throws on any database error with nothing written.
 *
 * The batch travels as JSON parameters read as relations (json-rows.ts): the statements' text is the same for any
 * batch, and no query tree grows with it. PostgreSQL gets ONE statement and no explicit transaction (a round trip
 * cost ~0.4 ms of server CPU, bench/ingest.ts; this was six); SQLite, in-process, a transaction of three statements.
 */
export async function writeMoves(
  db: Kysely<Database>,
  dialect: StoreDialect,
  moves: readonly UpgradeMove[],
): Promise<Set<number>> {
  const rows = moves.map(fold);
  if (dialect === 'postgres') {
    const { rows: applied } = await writeInOneStatement(rows, stepsOf(moves)).execute(db);
    return new Set(applied.map((row) => Number(row.id)));
  }
  return db.transaction().execute(async (trx) => {
    const { rows: written } = await sql<{ id: number; job_id: number }>`
      UPDATE upgrades SET ${WRITE_LAST_STEP}
      FROM ${jsonRows('sqlite', rows, MOVE_COLUMNS, 'v')}
      WHERE ${EXPECT_FIRST_STEP}
      RETURNING upgrades.id, upgrades.job_id`.execute(trx);
    if (!written.length) return new Set<number>();
    const jobOf = new Map(written.map((row) => [Number(row.id), Number(row.job_id)]));
    const steps = jsonRows('sqlite', stepsOf(moves.filter((move) => jobOf.has(move.id))), STEP_COLUMNS, 's');
    await recordSteps(steps, sql`upgrades AS o`).execute(trx);
    const deltas = countDeltas(
      rows.flatMap((row) => {
        const jobId = jobOf.get(row.id);
        return jobId === undefined ? [] : [{ jobId, from: row.expect_state, to: row.state }];
      }),
    );
    if (deltas.length)
      await addCounts(
        sql`SELECT job_id, state, n FROM ${jsonRows('sqlite', deltas, COUNT_COLUMNS, 'd')} WHERE true`,
      ).execute(trx);
    return new Set(jobOf.keys());
  });
}

/**
 * The whole batch as one PostgreSQL statement, in one implicit transaction: a unique violation or a deadlock
 * leaves nothing written (UpgradeStore.applyMany falls back or retries). Data-modifying CTEs all see the statement's
 * snapshot and each other's effects only through RETURNING, so history and counts are fed from `moved`'s RETURNING,
 * never by reading `upgrades` or `job_upgrade_counts` again.
 *
 * What guarantees what:
 * - `locked` takes the rows' locks in id order, as every batch write of upgrades does (claims, supersede): PostgreSQL
 *   sorts before it locks (LockRows runs above the Sort), and `moved` joins `locked`, so it writes a row only after
 *   `locked` has locked it — whatever join order the planner picks, the rows this statement holds are always a
 *   prefix of its ids. Two instances writing overlapping batches therefore wait for each other instead of
 *   deadlocking. MATERIALIZED keeps the locking query a plan of its own rather than folded into the UPDATE.
 *   `locked` also carries the batch's values, so the UPDATE joins one input to `upgrades` by primary key: with the
 *   JSON rows as a third input, PostgreSQL (which guesses 100 rows for them) was seen planning a nested loop over
 *   `locked` that grew with the batch (7 → 15 ms per batch).
 * - Compare-and-set: a row changed by a transaction that committed after the snapshot (while `locked` waited for
 *   it) is re-read at its newest version by the UPDATE (READ COMMITTED re-check), so `expect` is compared with what
 *   is stored now; a lost compare-and-set simply returns no row, and so writes no history and no count.
 * - Counts: the deltas are an aggregate over all of `moved`, so the counter rows are locked only once every
 *   upgrade row is, in (job, state) order with byte-order states (countDeltas' order, used by every other counts
 *   writer): no cycle between counter rows, nor between a counter row and an upgrade row. Every batch of a job
 *   updates the same few counter rows, so they should be held briefly: `history` comes after `counted` in the WITH
 *   list because PostgreSQL (15) runs the parts the main query does not read in reverse order, so the history is
 *   inserted before the counter rows are locked. An implementation order, not a promise: were it to change, only
 *   how long the counter rows are held would.
 * - What ordering cannot prevent — waits on a unique-index entry another transaction has not committed yet, or
 *   another writer taking its locks in another order — ends, rarely, in deadlock_detected; applyMany retries the
 *   batch then.
 */
function writeInOneStatement(rows: MoveRow[], steps: StepRow[]): RawBuilder<{ id: number }> {
  return sql<{ id: number }>`
    WITH locked AS MATERIALIZED (
      SELECT v.* FROM upgrades JOIN ${jsonRows('postgres', rows, MOVE_COLUMNS, 'v')} ON upgrades.id = v.id
      ORDER BY upgrades.id FOR UPDATE OF upgrades
    ),
    moved AS (
      UPDATE upgrades SET ${WRITE_LAST_STEP}
      FROM locked AS v
      WHERE ${EXPECT_FIRST_STEP}
      RETURNING upgrades.id, upgrades.job_id, upgrades.device_id, v.expect_state, v.state
    ),
    counted AS (${addCounts(sql`
      SELECT moved.job_id, d.state, SUM(d.n)
      FROM moved CROSS JOIN LATERAL (VALUES (moved.expect_state, -1), (moved.state, 1)) AS d (state, n)
      GROUP BY moved.job_id, d.state
      HAVING SUM(d.n) <> 0
      ORDER BY moved.job_id, d.state COLLATE "C"`)}),
    history AS (${recordSteps(jsonRows('postgres', steps, STEP_COLUMNS, 's'), sql`moved AS o`)})
    SELECT id FROM moved`;
}

/** The row write: the last step's values; the columns a step may set to null only when one does. */
const WRITE_LAST_STEP = sql`
  state = v.state,
  phase = v.phase,
  percent = v.percent,
  active = v.active,
  last_activity_at = v.last_activity_at,
  finished_at = v.finished_at,
  error_code = CASE WHEN v.sets_error_code = 1 THEN v.error_code ELSE upgrades.error_code END,
  error_message = CASE WHEN v.sets_error_message = 1 THEN v.error_message ELSE upgrades.error_message END,
  retry_at = CASE WHEN v.sets_retry_at = 1 THEN v.retry_at ELSE upgrades.retry_at END,
  notified_at = COALESCE(v.notified_at, upgrades.notified_at),
  attempt = COALESCE(v.attempt, upgrades.attempt)`;

/** Compare-and-set on the first step's expectation. `IS NOT DISTINCT FROM`: null-safe in both (SQLite ≥ 3.39). */
const EXPECT_FIRST_STEP = sql`
  upgrades.id = v.id
  AND upgrades.state = v.expect_state
  AND upgrades.phase IS NOT DISTINCT FROM v.expect_phase
  AND upgrades.percent IS NOT DISTINCT FROM v.expect_percent`;

/**
 * One history row per step, in the batch's order, job and device from `owners` (rows with id, job_id, device_id,
 * aliased `o`): only the steps of upgrades found there are recorded.
 */
function recordSteps(steps: RawBuilder<StepRow>, owners: RawBuilder<unknown>): RawBuilder<never> {
  return sql`
    INSERT INTO upgrade_events
      (upgrade_id, job_id, device_id, from_state, to_state, phase, percent, error_code, message, at)
    SELECT s.upgrade_id, o.job_id, o.device_id, s.from_state, s.to_state, s.phase, s.percent, s.error_code,
      s.message, s.at
    FROM ${steps} JOIN ${owners} ON o.id = s.upgrade_id
    ORDER BY s.seq`;
}

function stepsOf(moves: readonly UpgradeMove[]): StepRow[] {
  const steps: StepRow[] = [];
  for (const move of moves)
    for (const { change, at } of move.steps)
      steps.push({
        seq: steps.length,
        upgrade_id: move.id,
        from_state: change.expect.state,
        to_state: change.state,
        phase: change.phase,
        percent: change.percent,
        error_code: change.errorCode ?? null,
        message: change.message ?? change.errorMessage ?? null,
        at,
      });
  return steps;
}

function fold(move: UpgradeMove): MoveRow {
  const first = move.steps[0];
  const last = move.steps[move.steps.length - 1];
  if (!first || !last) throw new Error(`upgrade ${move.id}: a move needs at least one step`);
  const terminal = TERMINAL.includes(last.change.state);
  const row: MoveRow = {
    id: move.id,
    expect_state: first.change.expect.state,
    expect_phase: first.change.expect.phase,
    expect_percent: first.change.expect.percent,
    state: last.change.state,
    phase: last.change.phase,
    percent: last.change.percent,
    active: terminal ? 0 : 1,
    last_activity_at: last.at,
    finished_at: terminal ? last.at : null,
    sets_error_code: 0,
    error_code: null,
    sets_error_message: 0,
    error_message: null,
    sets_retry_at: 0,
    retry_at: null,
    notified_at: null,
    attempt: null,
  };
  for (const { change } of move.steps) {
    if (change.errorCode !== undefined) {
      row.sets_error_code = 1;
      row.error_code = change.errorCode;
    }
    if (change.errorMessage !== undefined) {
      row.sets_error_message = 1;
      row.error_message = change.errorMessage;
    }
    if (change.retryAt !== undefined) {
      row.sets_retry_at = 1;
      row.retry_at = change.retryAt;
    }
    if (change.notifiedAt !== undefined) row.notified_at = change.notifiedAt;
    if (change.attempt !== undefined) row.attempt = change.attempt;
  }
  return row;
}
