import type { Kysely, Selectable } from 'kysely';
import type { FirmwareUsage } from '../app/ports/firmware-repository.js';
import type { Job, JobFilter, JobKind, JobRepository, NewJob } from '../app/ports/job-repository.js';
import type { JobState, RolloutStrategy, TargetSpec } from '../domain/index.js';
import { chunked } from './constraint-errors.js';
import type { Database, JobTable } from './schema.js';

function toJob(row: Selectable<JobTable>): Job {
  return {
    id: Number(row.id),
    kind: row.kind as JobKind,
    name: row.name,
    productKey: row.product_key,
    firmwareId: Number(row.firmware_id),
    module: row.module,
    targetVersion: row.target_version,
    state: row.state as JobState,
    targets: JSON.parse(row.targets) as TargetSpec,
    sourceVersions: JSON.parse(row.source_versions) as string[],
    strategy: JSON.parse(row.strategy) as RolloutStrategy,
    dynamic: row.dynamic === 1,
    allowUnverified: row.allow_unverified === 1,
    supersede: row.supersede === 1,
    parentJobId: row.parent_job_id === null ? null : Number(row.parent_job_id),
    currentGroup: row.current_group,
    selected: row.selected,
    skipped: row.skipped,
    conflicts: row.conflicts,
    reason: row.reason,
    enrolledUntil: row.enrolled_until,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}

export class JobStore implements JobRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async create(job: NewJob, now: number): Promise<Job> {
    const row = await this.db
      .insertInto('jobs')
      .values({
        kind: job.kind,
        name: job.name,
        product_key: job.productKey,
        firmware_id: job.firmwareId,
        module: job.module,
        target_version: job.targetVersion,
        state: job.state,
        targets: JSON.stringify(job.targets),
        source_versions: JSON.stringify(job.sourceVersions),
        strategy: JSON.stringify(job.strategy),
        dynamic: job.dynamic ? 1 : 0,
        allow_unverified: job.allowUnverified ? 1 : 0,
        supersede: job.supersede ? 1 : 0,
        parent_job_id: job.parentJobId,
        current_group: 0,
        selected: 0,
        skipped: 0,
        conflicts: 0,
        reason: null,
        enrolled_until: 0,
        created_at: now,
        started_at: job.startedAt,
        finished_at: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toJob(row);
  }

  async get(id: number): Promise<Job | undefined> {
    const row = await this.db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toJob(row);
  }

  async getMany(ids: readonly number[]): Promise<Job[]> {
    const jobs: Job[] = [];
    for (const part of chunked([...new Set(ids)], 500)) {
      const rows = await this.db.selectFrom('jobs').selectAll().where('id', 'in', part).execute();
      jobs.push(...rows.map(toJob));
    }
    return jobs;
  }

  async list(filter: JobFilter): Promise<{ items: Job[]; total: number }> {
    let query = this.db.selectFrom('jobs');
    if (filter.productKey !== undefined) query = query.where('product_key', '=', filter.productKey);
    if (filter.state !== undefined) query = query.where('state', '=', filter.state);
    if (filter.kind !== undefined) query = query.where('kind', '=', filter.kind);
    const [rows, count] = await Promise.all([
      query.selectAll().orderBy('id', 'desc').limit(filter.limit).offset(filter.offset).execute(),
      query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items: rows.map(toJob), total: Number(count.n) };
  }

  async moveState(
    id: number,
    from: readonly JobState[],
    to: JobState,
    patch: { startedAt?: number; finishedAt?: number; reason?: string },
  ): Promise<boolean> {
    const result = await this.db
      .updateTable('jobs')
      .set({
        state: to,
        ...(patch.startedAt !== undefined ? { started_at: patch.startedAt } : {}),
        ...(patch.finishedAt !== undefined ? { finished_at: patch.finishedAt } : {}),
        ...(patch.reason !== undefined ? { reason: patch.reason } : {}),
      })
      .where('id', '=', id)
      .where('state', 'in', [...from])
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async advanceGroup(id: number, from: number, to: number): Promise<boolean> {
    const result = await this.db
      .updateTable('jobs')
      .set({ current_group: to })
      .where('id', '=', id)
      .where('current_group', '=', from)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async workable(_now: number): Promise<Job[]> {
    const rows = await this.db
      .selectFrom('jobs')
      .selectAll()
      .where((eb) =>
        eb.or([
          // Paused jobs too: devices told before the pause still time out, fail, retry and finish.
          eb('state', 'in', ['scheduled', 'running', 'paused']),
          // Stopped jobs whose upgrades were not all cancelled yet (the server stopped in between).
          eb.and([
            eb('state', 'in', ['cancelled', 'aborted']),
            eb.exists(
              eb
                .selectFrom('upgrades')
                .select('upgrades.id')
                .whereRef('upgrades.job_id', '=', 'jobs.id')
                // By state, not `active`: the (job_id, state) index answers it without reading the job's rows.
                .where('upgrades.state', 'in', ['queued', 'notified', 'downloading', 'installing']),
            ),
          ]),
        ]),
      )
      .orderBy('id')
      .execute();
    return rows.map(toJob);
  }

  /** The jobs module's answer to "which unfinished jobs use this package". */
  usage(): FirmwareUsage {
    return { unfinishedJobsUsing: (id) => this.unfinishedUsingFirmware(id) };
  }

  async unfinishedUsingFirmware(firmwareId: number): Promise<number[]> {
    const rows = await this.db
      .selectFrom('jobs')
      .select('id')
      .where('firmware_id', '=', firmwareId)
      .where('state', 'in', ['scheduled', 'running', 'paused'])
      .execute();
    return rows.map((r) => Number(r.id));
  }
}
