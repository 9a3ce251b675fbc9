import type { Clock } from '../app/clock.js';
import { enrolRetries, enrolTargets } from '../app/jobs/enrolment.js';
import { buildTask } from '../app/jobs/task-builder.js';
import { changeFor } from '../app/jobs/upgrade-changes.js';
import type { DeviceMessenger } from '../app/ports/device-messenger.js';
import type { DeviceRepository } from '../app/ports/device-repository.js';
import type { DownloadUrls } from '../app/ports/download-urls.js';
import type { Firmware, FirmwareRepository } from '../app/ports/firmware-repository.js';
import type {
  Job,
  JobRepository,
  UpgradeRepository,
  UpgradeWithDevice,
} from '../app/ports/job-repository.js';
import type { Logger } from '../app/ports/logger.js';
import {
  isTerminalJobState,
  type JobState,
  jobIsFinished,
  nextGroupMayStart,
  shouldAbort,
  type UpgradeCounts,
} from '../domain/index.js';

export interface RolloutEngineDeps {
  jobs: JobRepository;
  upgrades: UpgradeRepository;
  devices: DeviceRepository;
  firmware: FirmwareRepository;
  messenger: DeviceMessenger;
  urls: DownloadUrls;
  logger: Logger;
  clock: Clock;
}

/** Where the engine may complete or abort a job (the job table allows both from running and paused). */
const UNFINISHED: readonly JobState[] = ['running', 'paused'];
/** How many devices one job dispatches per tick at most, so one huge job cannot starve the others. */
const DISPATCH_PER_TICK = 2000;
/** How many timeouts / retries / cancellations one job handles per tick. */
const SWEEP_PER_TICK = 1000;

/**
 * The rollout engine: one idempotent reconcile tick over the database — start scheduled jobs, enrol targets, time out
 * silent devices, retry failures, abort on too many failures, open staged groups, dispatch within the rate limits,
 * complete finished jobs. Nothing lives in memory between ticks, so a server killed at any moment resumes exactly
 * where it was; every write is compare-and-set, so two instances can tick at once without double-dispatching.
 */
export class RolloutEngine {
  constructor(private readonly deps: RolloutEngineDeps) {}

  /** Runs one reconcile pass over every workable job. */
  async tick(): Promise<void> {
    const now = this.deps.clock();
    for (const job of await this.deps.jobs.workable(now)) {
      try {
        await this.reconcile(job, now);
      } catch (error) {
        this.deps.logger.error({ err: error, job: job.id }, 'job reconcile failed');
      }
    }
  }

  /** One pass over one job (exposed for tests that step a single job). */
  async reconcile(initial: Job, now: number): Promise<void> {
    const { jobs, upgrades } = this.deps;
    let job = initial;
    if (isTerminalJobState(job.state)) {
      await this.finishStopping(job, now);
      return;
    }
    if (job.state === 'scheduled') {
      if (job.strategy.startAt !== undefined && job.strategy.startAt > now) return;
      if (!(await jobs.moveState(job.id, ['scheduled'], 'running', { startedAt: now }))) return;
      job = { ...job, state: 'running', startedAt: now };
    }
    await this.enrol(job, now);
    const ended = job.strategy.endAt !== undefined && now >= job.strategy.endAt;
    if (ended) await this.cancelUndispatched(job, now);
    await this.timeOutSilent(job, now);
    await this.retryFailures(job, now);

    const counts = await upgrades.counts(job.id);
    if (shouldAbort(counts, job.strategy.abort)) {
      await this.abort(job, counts, now);
      return;
    }
    const group = await this.openGroups(job);
    // Paused: nobody new is told, but what was told goes on (timeouts, retries, failures, completion above).
    if (!ended && job.state === 'running') await this.dispatch(job, group, counts, now);
    await this.completeIfDone(job, now);
  }

  /** The first pass selects the targets; a dynamic job keeps enrolling devices that report a source version. */
  private async enrol(job: Job, now: number): Promise<void> {
    if (job.enrolledUntil === 0) {
      if (job.kind === 'retry' && job.parentJobId !== null)
        await enrolRetries(this.deps, job, job.parentJobId, now);
      else await enrolTargets(this.deps, job, now);
    } else if (job.dynamic && (job.strategy.endAt === undefined || now < job.strategy.endAt)) {
      await enrolTargets(this.deps, job, now);
    }
  }

  /** At the end time, devices not told yet are not told at all. */
  private async cancelUndispatched(job: Job, now: number): Promise<void> {
    for (const upgrade of await this.deps.upgrades.queued(job.id, SWEEP_PER_TICK)) {
      const change = changeFor(upgrade, job, { type: 'cancelled' }, now);
      if (change)
        await this.deps.upgrades.apply(upgrade.id, { ...change, message: 'job end time reached' }, now);
    }
  }

  private async timeOutSilent(job: Job, now: number): Promise<void> {
    const before = now - job.strategy.deviceTimeoutSeconds * 1000;
    for (const upgrade of await this.deps.upgrades.stale(job.id, before, SWEEP_PER_TICK)) {
      const change = changeFor(upgrade, job, { type: 'timed_out' }, now);
      if (change) await this.deps.upgrades.apply(upgrade.id, change, now);
    }
  }

  private async retryFailures(job: Job, now: number): Promise<void> {
    for (const upgrade of await this.deps.upgrades.retriesDue(job.id, now, SWEEP_PER_TICK)) {
      const change = changeFor(upgrade, job, { type: 'retry' }, now);
      const applied = change && (await this.deps.upgrades.apply(upgrade.id, change, now));
      if (!applied) {
        // The device has another active upgrade of the module now: this one will not be retried.
        await this.deps.upgrades.apply(
          upgrade.id,
          {
            expect: { state: upgrade.state, phase: upgrade.phase, percent: upgrade.percent },
            state: upgrade.state,
            phase: upgrade.phase,
            percent: upgrade.percent,
            retryAt: null,
            message: 'retry skipped: the device has another active upgrade of this module',
          },
          now,
        );
      }
    }
  }

  private async abort(job: Job, counts: UpgradeCounts, now: number): Promise<void> {
    const finished = (counts.succeeded ?? 0) + (counts.failed ?? 0) + (counts.timed_out ?? 0);
    const failed = (counts.failed ?? 0) + (counts.timed_out ?? 0);
    const reason = `aborted: ${failed} of ${finished} finished devices failed (limit ${job.strategy.abort?.failurePercent}%)`;
    if (!(await this.deps.jobs.moveState(job.id, UNFINISHED, 'aborted', { finishedAt: now, reason }))) return;
    this.deps.logger.warn({ job: job.id, failed, finished }, 'job aborted');
    await this.cancelActive(job, now, 'job aborted');
  }

  /**
   * A job cancelled or aborted, with upgrades still active: the server stopped between moving the job and
   * cancelling its upgrades (two writes), which would leave those devices blocked for every other job. Finish it.
   */
  private async finishStopping(job: Job, now: number): Promise<void> {
    // The package first: this pass only runs while upgrades are still active, so after they are cancelled a crash
    // would leave the package "verifying" with nothing left to notice it.
    // "verifying" is this cancelled job's unless another job uses the package now (e.g. a new verify job).
    if (
      job.kind === 'verify' &&
      job.state === 'cancelled' &&
      (await this.deps.jobs.unfinishedUsingFirmware(job.firmwareId)).length === 0
    ) {
      await this.deps.firmware.setVerifyState(
        job.firmwareId,
        ['verifying'],
        'unverified',
        `verify job ${job.id} cancelled`,
      );
    }
    await this.cancelActive(job, now, `job ${job.state}`);
  }

  /** Cancels every active upgrade of a job (cancel, abort). Runs until none is left. */
  async cancelActive(job: Job, now: number, message: string): Promise<void> {
    for (;;) {
      const active = await this.deps.upgrades.active(job.id, SWEEP_PER_TICK);
      if (!active.length) return;
      let moved = 0;
      for (const upgrade of active) {
        const change = changeFor(upgrade, job, { type: 'cancelled' }, now);
        if (change && (await this.deps.upgrades.apply(upgrade.id, { ...change, message }, now))) moved++;
      }
      if (moved === 0) return;
    }
  }

  /** Staged groups: opens the next group while the current one meets its success threshold. Returns the open group. */
  private async openGroups(job: Job): Promise<number> {
    const groups = job.strategy.groups;
    if (!groups) return 0;
    let group = job.currentGroup;
    while (group < groups.length - 1) {
      const counts = await this.deps.upgrades.countsInGroup(job.id, group);
      if (!nextGroupMayStart(counts, groups[group]!.successThreshold)) break;
      if (!(await this.deps.jobs.advanceGroup(job.id, group, group + 1))) break;
      this.deps.logger.info({ job: job.id, group: group + 1 }, 'staged group opened');
      group++;
    }
    return group;
  }

  private async dispatch(job: Job, group: number, counts: UpgradeCounts, now: number): Promise<void> {
    if ((counts.queued ?? 0) === 0) return;
    // Read before the claim: the devices are told inside the claiming transaction, which must not query.
    const firmware = await this.deps.firmware.get(job.firmwareId);
    if (!firmware) return;
    const { maxPerMinute, maxInFlight } = job.strategy;
    // The rate limits are applied inside the claim, where they are counted atomically with it.
    await this.deps.upgrades.claimForDispatch(
      job.id,
      group,
      DISPATCH_PER_TICK,
      now,
      { maxPerMinute, maxInFlight },
      (claimed) => this.pushTasks(claimed, firmware, now),
    );
  }

  /** Publishes tasks, each with a freshly signed URL. A failed publish is retried by re-push or timeout. */
  private async pushTasks(
    claimed: readonly UpgradeWithDevice[],
    firmware: Firmware,
    now: number,
  ): Promise<void> {
    await Promise.all(
      claimed.map(async (upgrade) => {
        try {
          await this.deps.messenger.pushTask(
            { productKey: upgrade.productKey, deviceName: upgrade.deviceName, dialect: upgrade.dialect },
            buildTask(firmware, this.deps.urls, now),
          );
        } catch (error) {
          this.deps.logger.warn({ err: error, upgrade: upgrade.id }, 'task publish failed');
        }
      }),
    );
  }

  private async completeIfDone(job: Job, now: number): Promise<void> {
    const { upgrades, jobs, firmware } = this.deps;
    const stillEnrolling = job.dynamic && (job.strategy.endAt === undefined || now < job.strategy.endAt);
    if (stillEnrolling) return;
    const counts = await upgrades.counts(job.id);
    if (!jobIsFinished(counts, await upgrades.retriesPending(job.id))) return;
    if (job.kind === 'verify') {
      // Before the job completes, not after: a server stopped in between finds the job unfinished and does both
      // again (the verdict is compare-and-set from "verifying"), instead of leaving the package verifying forever.
      const total = Object.values(counts).reduce((a, b) => a + (b ?? 0), 0);
      const ok = total > 0 && (counts.succeeded ?? 0) === total;
      const detail = ok
        ? `verified on ${total} device(s) by job ${job.id}`
        : `job ${job.id}: ${counts.succeeded ?? 0} of ${total} test device(s) succeeded`;
      await firmware.setVerifyState(job.firmwareId, ['verifying'], ok ? 'verified' : 'verify_failed', detail);
    }
    if (!(await jobs.moveState(job.id, UNFINISHED, 'completed', { finishedAt: now }))) return;
    this.deps.logger.info({ job: job.id, counts }, 'job completed');
  }
}
