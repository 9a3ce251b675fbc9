import type { Dialect } from '@aloft/protocol';
import { type Kysely, type SelectQueryBuilder, sql } from 'kysely';
import type {
  Upgrade,
  UpgradeEventRecord,
  UpgradeListPage,
  UpgradePage,
  UpgradeWithDevice,
} from '../app/ports/job-repository.js';
import { UPGRADE_STATES, type UpgradeCounts, type UpgradeState } from '../domain/index.js';
import { chunked } from './constraint-errors.js';
import type { StoreDialect } from './database.js';
import { jsonRows } from './json-rows.js';
import type { Database } from './schema.js';
import { RETRYABLE, toEventRecord, toUpgrade } from './upgrade-rows.js';

/** Upgrade reads: job detail counts, device tabs, history, the event feed. */
export class UpgradeQueries {
  constructor(
    protected readonly db: Kysely<Database>,
    protected readonly dialect: StoreDialect,
  ) {}

  async get(id: number): Promise<Upgrade | undefined> {
    const row = await this.db.selectFrom('upgrades').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toUpgrade(row);
  }

  /** Per-state counts of a job's upgrades: its counters, kept by every upgrade write (store/upgrade-counts.ts). */
  async counts(jobId: number): Promise<UpgradeCounts> {
    const rows = await this.db
      .selectFrom('job_upgrade_counts')
      .select(['state', 'n'])
      .where('job_id', '=', jobId)
      .where('n', '>', 0)
      .execute();
    return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)])) as UpgradeCounts;
  }

  /** Per-state counts through the (job_id, state) index: an indexed aggregate, fast at 100k devices. */
  protected async countBy(query: SelectQueryBuilder<Database, 'upgrades', object>): Promise<UpgradeCounts> {
    const rows = await query
      .select((eb) => ['state', eb.fn.countAll<number>().as('n')])
      .groupBy('state')
      .execute();
    const counts: Partial<Record<UpgradeState, number>> = {};
    for (const row of rows) counts[row.state as UpgradeState] = Number(row.n);
    return counts;
  }

  async dispatchedSince(jobId: number, since: number): Promise<number> {
    return this.count(
      this.db.selectFrom('upgrades').where('job_id', '=', jobId).where('notified_at', '>=', since),
    );
  }

  async succeededSince(jobId: number, since: number): Promise<number> {
    return this.count(
      this.db
        .selectFrom('upgrades')
        .where('job_id', '=', jobId)
        .where('state', '=', 'succeeded')
        .where('finished_at', '>=', since),
    );
  }

  async retriesPending(jobId: number): Promise<number> {
    return this.count(
      this.db
        .selectFrom('upgrades')
        .where('job_id', '=', jobId)
        .where('state', 'in', RETRYABLE)
        .where('retry_at', 'is not', null),
    );
  }

  private async count(query: SelectQueryBuilder<Database, 'upgrades', object>): Promise<number> {
    const row = await query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async queued(jobId: number, limit: number): Promise<Upgrade[]> {
    const rows = await this.db
      .selectFrom('upgrades')
      .selectAll()
      .where('job_id', '=', jobId)
      .where('state', '=', 'queued')
      .limit(limit)
      .execute();
    return rows.map(toUpgrade);
  }

  async active(jobId: number, limit: number): Promise<Upgrade[]> {
    const rows = await this.db
      .selectFrom('upgrades')
      .selectAll()
      .where('job_id', '=', jobId)
      .where('active', '=', 1)
      .limit(limit)
      .execute();
    return rows.map(toUpgrade);
  }

  async activeForDevices(deviceIds: readonly number[]): Promise<UpgradeWithDevice[]> {
    if (!deviceIds.length) return [];
    // The devices as one JSON parameter: the same text for every ingest batch, so SQLite reuses the statement, and a
    // query-builder tree of constant size instead of one parameter node per device.
    const devices = jsonRows(
      this.dialect,
      deviceIds.map((id) => ({ id })),
      { id: 'bigint' },
      'batch',
    );
    const rows = await this.withDeviceQuery()
      .where('upgrades.device_id', 'in', sql<number>`(SELECT id FROM ${devices})`)
      // A literal: with `active = ?` SQLite picks the partial index upgrades_one_active (… WHERE active = 1) from
      // the bound value, so it plans the statement again at every run (~40 µs a batch).
      .where('upgrades.active', '=', sql.lit(1))
      .execute();
    return rows.map((row) => this.toWithDevice(row));
  }

  /** `db` may be an open transaction, to read its own uncommitted writes. */
  protected async withDevices(
    ids: readonly number[],
    db: Kysely<Database> = this.db,
  ): Promise<UpgradeWithDevice[]> {
    const result: UpgradeWithDevice[] = [];
    for (const part of chunked(ids, 500)) {
      const rows = await this.withDeviceQuery(db)
        .where('upgrades.id', 'in', part)
        .orderBy('upgrades.id')
        .execute();
      for (const row of rows) result.push(this.toWithDevice(row));
    }
    return result;
  }

  private withDeviceQuery(db: Kysely<Database> = this.db) {
    return db
      .selectFrom('upgrades')
      .innerJoin('devices', 'devices.id', 'upgrades.device_id')
      .innerJoin('jobs', 'jobs.id', 'upgrades.job_id')
      .innerJoin('products', 'products.key', 'devices.product_key')
      .selectAll('upgrades')
      .select(['devices.product_key', 'devices.name as device_name', 'jobs.firmware_id', 'products.dialect']);
  }

  private toWithDevice(
    row: Parameters<typeof toUpgrade>[0] & {
      product_key: string;
      device_name: string;
      firmware_id: number;
      dialect: string;
    },
  ): UpgradeWithDevice {
    return {
      ...toUpgrade(row),
      dialect: row.dialect as Dialect,
      productKey: row.product_key,
      deviceName: row.device_name,
      firmwareId: Number(row.firmware_id),
    };
  }

  async enrolledDeviceIds(jobId: number, deviceIds: readonly number[]): Promise<Set<number>> {
    const enrolled = new Set<number>();
    for (const part of chunked(deviceIds, 500)) {
      const rows = await this.db
        .selectFrom('upgrades')
        .select('device_id')
        .where('job_id', '=', jobId)
        .where('device_id', 'in', part)
        .execute();
      for (const row of rows) enrolled.add(Number(row.device_id));
    }
    return enrolled;
  }

  async list(
    jobId: number,
    states: readonly string[] | undefined,
    page: UpgradePage,
    search?: string,
  ): Promise<UpgradeListPage> {
    // The page is picked from `upgrades` alone, then only its rows are joined. For a tab without a search, each of its
    // states gives its ids from the (job, state, id) index — from after the page's `after` id, or its first
    // offset + limit — and the page is cut from their merge: a page costs its depth by offset and the same at any
    // depth by `after`, never the tab's size (a sort of the whole 12,000-row failed tab of a 100,000-device job
    // before; bench/api.ts). Devices are deleted with their upgrades, so no join is needed. The page reads one row
    // more than it returns: whether that row exists says whether another page follows.
    let matching = this.db.selectFrom('upgrades').where('upgrades.job_id', '=', jobId);
    if (states?.length) matching = matching.where('upgrades.state', 'in', [...states]);
    if (search) {
      const pattern = `%${search.replace(/[%_\\]/g, (c) => `\\${c}`)}%`;
      matching = matching.where('upgrades.device_id', 'in', (eb) =>
        eb.selectFrom('devices').select('devices.id').where('devices.name', 'like', pattern),
      );
    }
    const take = page.limit + 1;
    const sorted = matching.select('upgrades.id').orderBy('upgrades.id').limit(take);
    // The "all" tab by offset reads the job's ids in order: at offset 90,000 that beat merging its eight states'
    // ranges, each read as deep as the page (31 vs 44 ms). By `after` the merge reads ≤ limit + 1 ids a state
    // (0.1–0.7 ms at any depth), where the job's ids in order cost a read of the job's whole (job, device) index and
    // a sort on SQLite (2.6 ms at 100,000), and on PostgreSQL a walk of the primary key that at the job's last page
    // runs on through every later job's upgrades (8 ms past a second job of 100,000).
    const ids = search
      ? page.after === undefined
        ? sorted.offset(page.offset)
        : sorted.where('upgrades.id', '>', page.after)
      : states?.length || page.after !== undefined
        ? this.mergedPage(jobId, states?.length ? states : UPGRADE_STATES, take, page)
        : sorted.offset(page.offset);
    // A tab's total is its states' counters; only a search has to count.
    const total = search
      ? matching
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
          .then((row) => Number(row.n))
      : this.counts(jobId).then((counts) =>
          Object.entries(counts)
            .filter(([state]) => !states?.length || states.includes(state))
            .reduce((sum, [, n]) => sum + (n ?? 0), 0),
        );
    const [rows, count] = await Promise.all([
      this.db
        .selectFrom('upgrades')
        .innerJoin('devices', 'devices.id', 'upgrades.device_id')
        .leftJoin('device_versions', (join) =>
          join
            .onRef('device_versions.device_id', '=', 'upgrades.device_id')
            .onRef('device_versions.module', '=', 'upgrades.module'),
        )
        .selectAll('upgrades')
        .select(['devices.name as device_name', 'device_versions.version as current_version'])
        .where('upgrades.id', 'in', ids)
        .orderBy('upgrades.id')
        .execute(),
      total,
    ]);
    const items = rows.slice(0, page.limit).map((r) => ({
      ...toUpgrade(r),
      deviceName: r.device_name,
      currentVersion: r.current_version,
    }));
    const last = items.at(-1);
    return { items, total: count, nextAfter: rows.length > page.limit && last ? last.id : null };
  }

  /**
   * The ids of one page (`take` rows) of a job's upgrades in the given states, by id, merged from per-state index
   * ranges: each from after the page's `after` id, or from the front as deep as the page reaches.
   */
  private mergedPage(jobId: number, states: readonly string[], take: number, page: UpgradePage) {
    const arms = states.map((state, i) => {
      const range = this.db
        .selectFrom('upgrades')
        .select('id')
        .where('job_id', '=', jobId)
        .where('state', '=', state)
        .orderBy('id');
      const from =
        page.after === undefined
          ? range.limit(page.offset + take)
          : range.where('id', '>', page.after).limit(take);
      return this.db.selectFrom(from.as(`s${i}`)).select('id');
    });
    const [first, ...rest] = arms;
    if (!first) throw new Error('a page needs at least one state');
    const merged = this.db
      .selectFrom(rest.reduce((union, arm) => union.unionAll(arm), first).as('tab'))
      .select('tab.id')
      .orderBy('tab.id')
      .limit(take);
    return page.after === undefined ? merged.offset(page.offset) : merged;
  }

  async latestForDevice(deviceId: number, module: string): Promise<Upgrade | undefined> {
    const row = await this.db
      .selectFrom('upgrades')
      .selectAll()
      .where('device_id', '=', deviceId)
      .where('module', '=', module)
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row && toUpgrade(row);
  }

  async historyOfDevice(
    deviceId: number,
    limit: number,
  ): Promise<{ upgrades: Upgrade[]; events: UpgradeEventRecord[] }> {
    const upgrades = (
      await this.db
        .selectFrom('upgrades')
        .selectAll()
        .where('device_id', '=', deviceId)
        .orderBy('id', 'desc')
        .limit(limit)
        .execute()
    ).map(toUpgrade);
    if (!upgrades.length) return { upgrades, events: [] };
    const events = await this.db
      .selectFrom('upgrade_events')
      .selectAll()
      .where(
        'upgrade_id',
        'in',
        upgrades.map((u) => u.id),
      )
      .orderBy('id')
      .execute();
    return { upgrades, events: events.map(toEventRecord) };
  }

  async eventsAfter(afterId: number, limit: number, jobId?: number): Promise<UpgradeEventRecord[]> {
    let query = this.db.selectFrom('upgrade_events').selectAll().where('id', '>', afterId);
    if (jobId !== undefined) query = query.where('job_id', '=', jobId);
    const rows = await query.orderBy('id').limit(limit).execute();
    return rows.map(toEventRecord);
  }

  async failedDeviceIds(jobId: number): Promise<{ deviceId: number; sourceVersion: string | null }[]> {
    const rows = await this.db
      .selectFrom('upgrades')
      .select(['device_id', 'source_version'])
      .where('job_id', '=', jobId)
      .where('state', 'in', RETRYABLE)
      .execute();
    return rows.map((r) => ({ deviceId: Number(r.device_id), sourceVersion: r.source_version }));
  }
}
