import type { Kysely, Transaction } from 'kysely';
import type { Database } from './schema.js';

/** An upgrade entering a state (`from` null: created), leaving one (`to` null: deleted), or moving between them. */
export interface CountedMove {
  jobId: number;
  from: string | null;
  to: string | null;
}

/**
 * Adds upgrade moves to the per-job counts, inside the transaction that writes them, as its last statement.
 * The rows are written in (job, state) order: concurrent transactions on PostgreSQL then lock them in one order and
 * wait for each other instead of deadlocking, and a transaction holds them only for its commit.
 */
export async function countMoves(
  trx: Transaction<Database> | Kysely<Database>,
  moves: readonly CountedMove[],
): Promise<void> {
  const deltas = new Map<string, { job_id: number; state: string; n: number }>();
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
  const rows = [...deltas.entries()]
    .filter(([, row]) => row.n !== 0)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([, row]) => row);
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
