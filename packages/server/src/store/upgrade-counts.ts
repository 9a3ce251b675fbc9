import { type Kysely, type RawBuilder, sql, type Transaction } from 'kysely';
import type { Database } from './schema.js';

/** An upgrade entering a state (`from` null: created), leaving one (`to` null: deleted), or moving between them. */
export interface CountedMove {
  jobId: number;
  from: string | null;
  to: string | null;
}

/** A change to one job's count of one state. */
export type CountDelta = { job_id: number; state: string; n: number };

/**
 * Adds upgrade moves to the per-job counts, inside the transaction that writes them, as its last statement.
 * The rows are written in (job, state) order: concurrent transactions on PostgreSQL then lock them in one order and
 * wait for each other instead of deadlocking, and a transaction holds them only for its commit.
 */
export async function countMoves(
  trx: Transaction<Database> | Kysely<Database>,
  moves: readonly CountedMove[],
): Promise<void> {
  const rows = countDeltas(moves);
  if (!rows.length) return;
  await trx
    .insertInto('job_upgrade_counts')
    .values(rows)
    .onConflict((oc) =>
      oc
        .columns(['job_id', 'state'])
        .doUpdateSet((eb) => ({ n: eb('job_upgrade_counts.n', '+', eb.ref('excluded.n')) })),
    )
    .execute();
}

/**
 * The count changes moves make: -1 to the state left, +1 to the state entered, summed per (job, state), zeros
 * dropped, in (job, state) order with states compared by character code (the order every counts writer locks rows
 * in; upgrade-moves.ts sorts the same way in SQL with `COLLATE "C"`, byte order, the same for ASCII state names).
 */
export function countDeltas(moves: readonly CountedMove[]): CountDelta[] {
  const deltas = new Map<string, CountDelta>();
  const add = (jobId: number, state: string, n: number) => {
    const key = `${String(jobId).padStart(20, '0')} ${state}`;
    const row = deltas.get(key) ?? { job_id: jobId, state, n: 0 };
    row.n += n;
    deltas.set(key, row);
  };
  for (const move of moves) {
    if (move.from === move.to) continue;
    if (move.from !== null) add(move.jobId, move.from, -1);
    if (move.to !== null) add(move.jobId, move.to, 1);
  }
  return [...deltas.entries()]
    .filter(([, row]) => row.n !== 0)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([, row]) => row);
}

/**
 * The counts upsert fed by a query of `(job_id, state, n)` rows, for statements that compute their deltas in SQL or
 * pass them as one JSON parameter (store/upgrade-moves.ts). On SQLite the query needs a WHERE clause (`WHERE true`
 * will do): SQLite would otherwise read `ON CONFLICT` as a join's ON.
 */
export function addCounts(deltas: RawBuilder<CountDelta>): RawBuilder<never> {
  return sql`
    INSERT INTO job_upgrade_counts (job_id, state, n) ${deltas}
    ON CONFLICT (job_id, state) DO UPDATE SET n = job_upgrade_counts.n + excluded.n`;
}
