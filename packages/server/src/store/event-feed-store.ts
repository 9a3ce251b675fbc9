import { setTimeout as sleep } from 'node:timers/promises';
import { type Kysely, sql } from 'kysely';
import type { EventFeedRepository } from '../app/events/event-feed-repository.js';
import {
  type EventFilter,
  UPGRADE_STATE_EVENT,
  type UpgradeStateEvent,
} from '../app/events/upgrade-state-event.js';
import type { UpgradeState } from '../domain/index.js';
import type { StoreDialect } from './database.js';
import type { Database } from './schema.js';

/** How long `currentId` waits for the transactions in flight at the call. */
const CURRENT_WAIT_MS = 2000;

/**
 * The upgrade event feed over `upgrade_events`, joined with devices for names.
 *
 * Why a settled id: ids are taken when a row is inserted, but on PostgreSQL transactions commit in any order — a
 * large dispatch may hold ids 100–2099 uncommitted while an ingest batch commits id 2100. A reader that moved its
 * cursor to 2100 would never see the 2000 rows. SQLite runs one write transaction at a time, so there ids commit in
 * order and the settled id is simply the highest one.
 */
export class EventFeedStore implements EventFeedRepository {
  private settled = 0;
  /** PostgreSQL: ids up to `upTo` are final once the transactions `xids` (in flight when seen) have ended. */
  private pending: { upTo: number; xids: string } | undefined;
  private settling: Promise<number> | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: StoreDialect,
  ) {}

  settledId(): Promise<number> {
    // Concurrent callers share one round trip; the PostgreSQL bookkeeping below must not interleave.
    this.settling ??= this.computeSettled().finally(() => {
      this.settling = undefined;
    });
    return this.settling;
  }

  async currentId(): Promise<number> {
    if (this.dialect === 'sqlite') return this.settle(await this.highestId());
    const seen = await this.look();
    if (!seen.xids) return this.settle(seen.upTo);
    // Transactions are short: wait for the ones in flight now, rather than start before events already committed.
    const deadline = performance.now() + CURRENT_WAIT_MS;
    while (performance.now() < deadline) {
      if (!(await this.anyRunning(seen.xids))) return this.settle(seen.upTo);
      await sleep(10);
    }
    // A long transaction somewhere: start at what is settled; the follower may see a few events from just before.
    return this.settledId();
  }

  /** Records that every id up to `id` is final. */
  private settle(id: number): number {
    this.settled = Math.max(this.settled, id);
    return this.settled;
  }

  private async computeSettled(): Promise<number> {
    if (this.dialect === 'sqlite') {
      this.settled = Math.max(this.settled, await this.highestId());
      return this.settled;
    }
    if (this.pending) {
      if (await this.anyRunning(this.pending.xids)) return this.settled;
      this.settled = Math.max(this.settled, this.pending.upTo);
      this.pending = undefined;
    }
    const seen = await this.look();
    if (seen.upTo <= this.settled) return this.settled;
    if (!seen.xids) this.settled = seen.upTo;
    else this.pending = seen;
    return this.settled;
  }

  private async highestId(): Promise<number> {
    const row = await this.db
      .selectFrom('upgrade_events')
      .select((eb) => eb.fn.max('id').as('id'))
      .executeTakeFirst();
    return Number(row?.id ?? 0);
  }

  /**
   * PostgreSQL: the highest visible id and the transactions in flight, from one statement, so one snapshot. Every
   * transaction that may still commit an id ≤ upTo was in flight at that snapshot (each one writes its upgrade row,
   * taking its xid, before its event row takes an id), so it is listed; once all of those have ended, no id ≤ upTo can
   * appear any more.
   */
  private async look(): Promise<{ upTo: number; xids: string }> {
    const seen = await sql<{ max_id: number | null; xids: string | null }>`
      SELECT (SELECT max(id) FROM upgrade_events) AS max_id,
             (SELECT string_agg(x::text, ',') FROM pg_snapshot_xip(pg_current_snapshot()) AS x) AS xids`.execute(
      this.db,
    );
    const row = seen.rows[0];
    return { upTo: Number(row?.max_id ?? 0), xids: row?.xids ?? '' };
  }

  private async anyRunning(xids: string): Promise<boolean> {
    const running = await sql<{ n: number }>`
      SELECT count(*) AS n FROM unnest(string_to_array(${xids}, ',')::xid8[]) AS x
      WHERE pg_xact_status(x) = 'in progress'`.execute(this.db);
    return Number(running.rows[0]?.n ?? 0) > 0;
  }

  async between(
    afterId: number,
    upToId: number,
    limit: number,
    filter: EventFilter = {},
  ): Promise<UpgradeStateEvent[]> {
    let query = this.db
      .selectFrom('upgrade_events as e')
      .leftJoin('devices as d', 'd.id', 'e.device_id')
      .leftJoin('jobs as j', 'j.id', 'e.job_id')
      .selectAll('e')
      .select(['d.name as device_name', 'd.product_key as device_product', 'j.product_key as job_product'])
      .where('e.id', '>', afterId)
      .where('e.id', '<=', upToId);
    if (filter.jobId !== undefined) query = query.where('e.job_id', '=', filter.jobId);
    if (filter.states?.length) query = query.where('e.to_state', 'in', [...filter.states]);
    const rows = await query.orderBy('e.id').limit(limit).execute();
    return rows.map((r) => ({
      id: Number(r.id),
      type: UPGRADE_STATE_EVENT,
      jobId: Number(r.job_id),
      upgradeId: Number(r.upgrade_id),
      deviceId: Number(r.device_id),
      deviceName: r.device_name,
      productKey: r.device_product ?? r.job_product ?? '',
      fromState: r.from_state as UpgradeState | null,
      toState: r.to_state as UpgradeState,
      phase: r.phase,
      percent: r.percent,
      errorCode: r.error_code,
      message: r.message,
      at: Number(r.at),
    }));
  }
}
