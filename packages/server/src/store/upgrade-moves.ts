import { type RawBuilder, sql, type Transaction } from 'kysely';
import type { UpgradeMove } from '../app/ports/job-repository.js';
import { chunked } from './constraint-errors.js';
import type { StoreDialect } from './database.js';
import type { Database } from './schema.js';
import { countMoves } from './upgrade-counts.js';
import { TERMINAL } from './upgrade-rows.js';

/** An upgrade's whole move folded into one row write: compare-and-set on the first step, the last step's values. */
interface FoldedMove {
  id: number;
  expect: UpgradeMove['steps'][number]['change']['expect'];
  state: string;
  phase: string | null;
  percent: number | null;
  active: number;
  lastActivityAt: number;
  finishedAt: number | null;
  /** [whether the move sets it, the value] for columns a step may also set to null. */
  errorCode: [number, string | null];
  errorMessage: [number, string | null];
  retryAt: [number, number | null];
  notifiedAt: number | null;
  attempt: number | null;
}

/** Rows per UPDATE: 17 parameters each keeps a statement far under both drivers' bound-parameter limits. */
const ROWS_PER_UPDATE = 400;
const EVENTS_PER_INSERT = 500;

/**
 * Writes many upgrades' moves inside `trx` with one `UPDATE … FROM (VALUES …)` per few hundred upgrades and one
 * multi-row history `INSERT`, instead of a transaction per step: the ingest path applies a whole batch of device
 * reports this way (bench/ingest.ts: a commit per step was a third of the CPU on SQLite, four round trips per
 * message on PostgreSQL). Each upgrade is compare-and-set on its first step's `expect`; its later steps expect the
 * earlier ones' results, so they are applied with it or not at all. Returns the ids applied.
 */
export async function writeMoves(
  trx: Transaction<Database>,
  dialect: StoreDialect,
  moves: readonly UpgradeMove[],
): Promise<Set<number>> {
  const folded = moves.map(fold);
  if (dialect === 'postgres') {
    // Row locks in id order: two instances writing overlapping batches then wait for each other, never deadlock.
    await trx
      .selectFrom('upgrades')
      .select('id')
      .where(
        'id',
        'in',
        folded.map((m) => m.id),
      )
      .orderBy('id')
      .forUpdate()
      .execute();
  }
  const owners = new Map<number, { jobId: number; deviceId: number }>();
  for (const chunk of chunked(folded, ROWS_PER_UPDATE)) {
    const { rows } = await updateChunk(chunk).execute(trx);
    for (const row of rows)
      owners.set(Number(row.id), { jobId: Number(row.job_id), deviceId: Number(row.device_id) });
  }
  const history = moves.flatMap((move) => {
    const owner = owners.get(move.id);
    if (!owner) return [];
    return move.steps.map(({ change, at }) => ({
      upgrade_id: move.id,
      job_id: owner.jobId,
      device_id: owner.deviceId,
      from_state: change.expect.state,
      to_state: change.state,
      phase: change.phase,
      percent: change.percent,
      error_code: change.errorCode ?? null,
      message: change.message ?? change.errorMessage ?? null,
      at,
    }));
  });
  for (const chunk of chunked(history, EVENTS_PER_INSERT)) {
    await trx.insertInto('upgrade_events').values(chunk).execute();
  }
  await countMoves(
    trx,
    folded.flatMap((m) => {
      const owner = owners.get(m.id);
      return owner ? [{ jobId: owner.jobId, from: m.expect.state, to: m.state }] : [];
    }),
  );
  return new Set(owners.keys());
}

function fold(move: UpgradeMove): FoldedMove {
  const first = move.steps[0];
  const last = move.steps[move.steps.length - 1];
  if (!first || !last) throw new Error(`upgrade ${move.id}: a move needs at least one step`);
  const terminal = TERMINAL.includes(last.change.state);
  const folded: FoldedMove = {
    id: move.id,
    expect: first.change.expect,
    state: last.change.state,
    phase: last.change.phase,
    percent: last.change.percent,
    active: terminal ? 0 : 1,
    lastActivityAt: last.at,
    finishedAt: terminal ? last.at : null,
    errorCode: [0, null],
    errorMessage: [0, null],
    retryAt: [0, null],
    notifiedAt: null,
    attempt: null,
  };
  for (const { change } of move.steps) {
    if (change.errorCode !== undefined) folded.errorCode = [1, change.errorCode];
    if (change.errorMessage !== undefined) folded.errorMessage = [1, change.errorMessage];
    if (change.retryAt !== undefined) folded.retryAt = [1, change.retryAt];
    if (change.notifiedAt !== undefined) folded.notifiedAt = change.notifiedAt;
    if (change.attempt !== undefined) folded.attempt = change.attempt;
  }
  return folded;
}

/**
 * Every value is cast: PostgreSQL types a VALUES list from its first row and would take untyped parameters as text.
 * `IS NOT DISTINCT FROM` is the null-safe comparison both databases know (SQLite since 3.39).
 */
function updateChunk(chunk: FoldedMove[]): RawBuilder<{ id: number; job_id: number; device_id: number }> {
  const text = (value: string | null) => sql`CAST(${value} AS text)`;
  const int = (value: number | null) => sql`CAST(${value} AS integer)`;
  const big = (value: number | null) => sql`CAST(${value} AS bigint)`;
  const values = chunk.map(
    (m) =>
      sql`(${sql.join([
        big(m.id),
        text(m.expect.state),
        text(m.expect.phase),
        int(m.expect.percent),
        text(m.state),
        text(m.phase),
        int(m.percent),
        int(m.active),
        big(m.lastActivityAt),
        big(m.finishedAt),
        int(m.errorCode[0]),
        text(m.errorCode[1]),
        int(m.errorMessage[0]),
        text(m.errorMessage[1]),
        int(m.retryAt[0]),
        big(m.retryAt[1]),
        big(m.notifiedAt),
        int(m.attempt),
      ])})`,
  );
  return sql`
    WITH v (id, expect_state, expect_phase, expect_percent, state, phase, percent, active, last_activity_at,
            finished_at, sets_error_code, error_code, sets_error_message, error_message, sets_retry_at, retry_at,
            notified_at, attempt)
      AS (VALUES ${sql.join(values)})
    UPDATE upgrades SET
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
      attempt = COALESCE(v.attempt, upgrades.attempt)
    FROM v
    WHERE upgrades.id = v.id
      AND upgrades.state = v.expect_state
      AND upgrades.phase IS NOT DISTINCT FROM v.expect_phase
      AND upgrades.percent IS NOT DISTINCT FROM v.expect_percent
    RETURNING upgrades.id, upgrades.job_id, upgrades.device_id`;
}
