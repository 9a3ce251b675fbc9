import { type SelectQueryBuilder, sql, type Transaction } from 'kysely';
import type {
  EnrolmentPass,
  Upgrade,
  UpgradeChange,
  UpgradeMove,
  UpgradeRepository,
  UpgradeWithDevice,
} from '../app/ports/job-repository.js';
import { dispatchBudget, type RolloutStrategy, type UpgradeCounts } from '../domain/index.js';
import { chunked, isDeadlock, isUniqueViolation } from './constraint-errors.js';
import type { Database } from './schema.js';
import { type CountedMove, countMoves } from './upgrade-counts.js';
import { writeMoves } from './upgrade-moves.js';
import { UpgradeQueries } from './upgrade-queries.js';
import { IN_FLIGHT, RETRYABLE, toUpgrade } from './upgrade-rows.js';

/** Writes of one batch of moves before a deadlock is reported as the batch's error. */
const DEADLOCK_ATTEMPTS = 5;

/**
 * Upgrade writes. Every state change is compare-and-set on the state and progress read, and records a history row
 * in the same transaction, so two server instances can never apply conflicting moves.
 */
export class UpgradeStore extends UpgradeQueries implements UpgradeRepository {
  async enrol(
    job: { id: number; module: string; targetVersion: string; supersede: boolean },
    pass: EnrolmentPass,
    now: number,
  ): Promise<{ created: number; conflicts: number } | undefined> {
    return this.db.transaction().execute(async (trx) => {
      // Compare-and-set first: on PostgreSQL a second instance running the same pass waits on this row, then
      // finds enrolled_until moved and writes nothing, so nobody counts the winner's devices as conflicts.
      const claimed = await trx
        .updateTable('jobs')
        .set({ enrolled_until: pass.until })
        .where('id', '=', job.id)
        .where('enrolled_until', '=', pass.from)
        .executeTakeFirst();
      if (Number(claimed.numUpdatedRows) === 0) return undefined;
      let created = 0;
      let conflicts = 0;
      const counted: CountedMove[] = [];
      for (const batch of chunked(pass.seeds, 400)) {
        if (job.supersede)
          counted.push(
            ...(await this.supersede(
              trx,
              job,
              batch.map((s) => s.deviceId),
              now,
            )),
          );
        const rows = await trx
          .insertInto('upgrades')
          .values(
            batch.map((s) => ({
              job_id: job.id,
              device_id: s.deviceId,
              module: job.module,
              target_version: job.targetVersion,
              source_version: s.sourceVersion,
              state: 'queued',
              attempt: 1,
              group_index: s.groupIndex,
              active: 1,
              queued_at: now,
              last_activity_at: now,
            })),
          )
          // A literal, not a bound parameter: SQLite matches the partial unique index only when the
          // conflict target's WHERE is textually the index's (`active = 1`); `active = ?` is refused.
          .onConflict((oc) =>
            oc.columns(['device_id', 'module']).where('active', '=', sql.lit(1)).doNothing(),
          )
          .returning(['id', 'device_id'])
          .execute();
        if (rows.length) {
          await trx
            .insertInto('upgrade_events')
            .values(
              rows.map((r) => ({
                upgrade_id: Number(r.id),
                job_id: job.id,
                device_id: Number(r.device_id),
                from_state: null,
                to_state: 'queued',
                at: now,
              })),
            )
            .execute();
        }
        created += rows.length;
        for (const _ of rows) counted.push({ jobId: job.id, from: null, to: 'queued' });
        const inserted = new Set(rows.map((r) => Number(r.device_id)));
        conflicts += batch.filter((s) => !inserted.has(s.deviceId) && s.countConflict !== false).length;
      }
      await trx
        .updateTable('jobs')
        .set((eb) => ({
          selected: eb('selected', '+', created),
          skipped: eb('skipped', '+', pass.skipped),
          conflicts: eb('conflicts', '+', conflicts),
        }))
        .where('id', '=', job.id)
        .execute();
      await countMoves(trx, counted);
      return { created, conflicts };
    });
  }

  /** Cancels other jobs' active upgrades of these devices' module, so the new job's can be created. */
  private async supersede(
    trx: Transaction<Database>,
    job: { id: number; module: string },
    deviceIds: number[],
    now: number,
  ): Promise<CountedMove[]> {
    const victims = await trx
      .selectFrom('upgrades')
      .select(['id', 'job_id', 'device_id', 'state', 'phase', 'percent'])
      .where('device_id', 'in', deviceIds)
      .where('module', '=', job.module)
      .where('active', '=', 1)
      .where('job_id', '!=', job.id)
      .orderBy('id')
      // Locked on PostgreSQL (in id order, as every batch write locks): their states cannot change before the
      // update below, so the history and the counts record the state each one really left.
      .$if(this.dialect === 'postgres', (q) => q.forUpdate())
      .execute();
    if (!victims.length) return [];
    await trx
      .updateTable('upgrades')
      .set({ state: 'cancelled', active: 0, finished_at: now, last_activity_at: now, retry_at: null })
      .where(
        'id',
        'in',
        victims.map((v) => Number(v.id)),
      )
      .execute();
    await trx
      .insertInto('upgrade_events')
      .values(
        victims.map((v) => ({
          upgrade_id: Number(v.id),
          job_id: Number(v.job_id),
          device_id: Number(v.device_id),
          from_state: v.state,
          to_state: 'cancelled',
          message: `superseded by job ${job.id}`,
          at: now,
        })),
      )
      .execute();
    return victims.map((v) => ({ jobId: Number(v.job_id), from: v.state, to: 'cancelled' }));
  }

  async apply(id: number, change: UpgradeChange, now: number): Promise<boolean> {
    return (await this.applyMany([{ id, steps: [{ change, at: now }] }])).has(id);
  }

  async applyMany(moves: readonly UpgradeMove[]): Promise<Set<number>> {
    if (!moves.length) return new Set();
    try {
      return await this.writeRetryingDeadlocks(moves);
    } catch (error) {
      // A retry that would make a second active upgrade of the module (the device joined another job meanwhile).
      if (!isUniqueViolation(error)) throw error;
      if (moves.length === 1) return new Set();
      // It rolled the whole batch back: apply the moves one by one, so only that one is refused.
      const applied = new Set<number>();
      for (const move of moves) for (const id of await this.applyMany([move])) applied.add(id);
      return applied;
    }
  }

  /**
   * A batch that lost a deadlock wrote nothing, and dropping it would lose device reports (the reporter only logs
   * a failed batch): it is written again, a few times. Its rows are locked in id order, so batches do not deadlock
   * each other; this covers the waits that order cannot (store/upgrade-moves.ts).
   */
  private async writeRetryingDeadlocks(moves: readonly UpgradeMove[]): Promise<Set<number>> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await writeMoves(this.db, this.dialect, moves);
      } catch (error) {
        if (!isDeadlock(error) || attempt >= DEADLOCK_ATTEMPTS) throw error;
      }
    }
  }

  async adoptSourceVersion(id: number, version: string): Promise<boolean> {
    const result = await this.db
      .updateTable('upgrades')
      .set({ source_version: version })
      .where('id', '=', id)
      .where('source_version', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async claimForDispatch(
    jobId: number,
    maxGroup: number,
    limit: number,
    now: number,
    limits?: Pick<RolloutStrategy, 'maxPerMinute' | 'maxInFlight'>,
    deliver?: (claimed: UpgradeWithDevice[]) => Promise<void>,
  ): Promise<UpgradeWithDevice[]> {
    if (limit <= 0) return [];
    return this.db.transaction().execute(async (trx) => {
      const budget = limits ? Math.min(limit, await this.budgetOf(trx, jobId, now, limits)) : limit;
      if (budget <= 0) return [];
      let select = trx
        .selectFrom('upgrades')
        .innerJoin('devices', 'devices.id', 'upgrades.device_id')
        .select(['upgrades.id', 'upgrades.device_id'])
        .where('upgrades.job_id', '=', jobId)
        .where('upgrades.state', '=', 'queued')
        .where('upgrades.group_index', '<=', maxGroup)
        .where('devices.online', '=', 1)
        .orderBy('upgrades.id')
        .limit(budget);
      // Two instances claiming at once each get different rows: locked ones are skipped, not waited for.
      if (this.dialect === 'postgres') select = select.forUpdate(['upgrades']).skipLocked();
      const candidates = await select.execute();
      if (!candidates.length) return [];
      const updated = await trx
        .updateTable('upgrades')
        .set({ state: 'notified', notified_at: now, last_activity_at: now })
        .where(
          'id',
          'in',
          candidates.map((c) => Number(c.id)),
        )
        .where('state', '=', 'queued')
        .returning(['id', 'device_id'])
        .execute();
      if (updated.length) {
        await trx
          .insertInto('upgrade_events')
          .values(
            updated.map((u) => ({
              upgrade_id: Number(u.id),
              job_id: jobId,
              device_id: Number(u.device_id),
              from_state: 'queued',
              to_state: 'notified',
              at: now,
            })),
          )
          .execute();
        await countMoves(
          trx,
          updated.map(() => ({ jobId, from: 'queued', to: 'notified' })),
        );
      }
      const claimed = await this.withDevices(
        updated.map((u) => Number(u.id)),
        trx,
      );
      // Told before the commit: a server that dies in between leaves them queued, to be told again.
      if (deliver && claimed.length) await deliver(claimed);
      return claimed;
    });
  }

  /**
   * Room left under the job's rate limits, counted with the job row locked on PostgreSQL: a second instance
   * claiming for the same job waits here until the first commits, then counts its claims too. (SQLite runs one
   * transaction at a time anyway.)
   */
  private async budgetOf(
    trx: Transaction<Database>,
    jobId: number,
    now: number,
    limits: Pick<RolloutStrategy, 'maxPerMinute' | 'maxInFlight'>,
  ): Promise<number> {
    const { maxPerMinute, maxInFlight } = limits;
    if (maxPerMinute === undefined && maxInFlight === undefined) return Number.POSITIVE_INFINITY;
    if (this.dialect === 'postgres')
      await trx.selectFrom('jobs').select('id').where('id', '=', jobId).forUpdate().execute();
    const count = async (query: SelectQueryBuilder<Database, 'upgrades', object>) =>
      Number((await query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
    const inUpgrades = trx.selectFrom('upgrades').where('job_id', '=', jobId);
    const inFlight = maxInFlight === undefined ? 0 : await count(inUpgrades.where('state', 'in', IN_FLIGHT));
    const dispatchedInLastMinute =
      maxPerMinute === undefined ? 0 : await count(inUpgrades.where('notified_at', '>=', now - 60_000));
    return dispatchBudget({ maxPerMinute, maxInFlight, inFlight, dispatchedInLastMinute });
  }

  async countsInGroup(jobId: number, group: number): Promise<UpgradeCounts> {
    return this.countBy(
      this.db.selectFrom('upgrades').where('job_id', '=', jobId).where('group_index', '=', group),
    );
  }

  async stale(jobId: number, before: number, limit: number): Promise<Upgrade[]> {
    const rows = await this.db
      .selectFrom('upgrades')
      .selectAll()
      .where('job_id', '=', jobId)
      .where('state', 'in', IN_FLIGHT)
      .where('last_activity_at', '<', before)
      .limit(limit)
      .execute();
    return rows.map(toUpgrade);
  }

  async retriesDue(jobId: number, now: number, limit: number): Promise<Upgrade[]> {
    const rows = await this.db
      .selectFrom('upgrades')
      .selectAll()
      .where('job_id', '=', jobId)
      .where('state', 'in', RETRYABLE)
      .where('retry_at', '<=', now)
      .limit(limit)
      .execute();
    return rows.map(toUpgrade);
  }
}
