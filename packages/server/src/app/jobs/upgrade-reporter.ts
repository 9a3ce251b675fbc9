import type { ProgressReport, TaskRequest } from '@aloft/protocol';
import { sameVersion, type UpgradeEvent } from '../../domain/index.js';
import type { Clock } from '../clock.js';
import type { DeviceEvent, DeviceEventSink } from '../ports/device-event-sink.js';
import type { DeviceMessenger } from '../ports/device-messenger.js';
import type { DownloadUrls } from '../ports/download-urls.js';
import type { FirmwareRepository } from '../ports/firmware-repository.js';
import type { Job, JobRepository, UpgradeRepository, UpgradeWithDevice } from '../ports/job-repository.js';
import type { Logger } from '../ports/logger.js';
import type { ProductRepository } from '../ports/product-repository.js';
import { applyToCopy, PendingMoves, toUpgradeMove } from './pending-moves.js';
import { buildTask } from './task-builder.js';
import { changeFor, IN_FLIGHT_STATES, sourceVersionsOf } from './upgrade-changes.js';

export interface UpgradeReporterDeps {
  jobs: JobRepository;
  upgrades: UpgradeRepository;
  firmware: FirmwareRepository;
  products: ProductRepository;
  messenger: DeviceMessenger;
  urls: DownloadUrls;
  logger: Logger;
  clock: Clock;
}

/**
 * Applies what devices say to their upgrades: progress and errors move the state machine (never backwards), a
 * version report decides success or failure, and a device that reconnects, reports its old version, or asks for its
 * task gets the task again with a freshly signed URL. Runs once per ingest batch.
 */
export class UpgradeReporter implements DeviceEventSink {
  constructor(private readonly deps: UpgradeReporterDeps) {}

  async handle(events: readonly DeviceEvent[]): Promise<void> {
    const deviceIds = [...new Set(events.map((e) => e.deviceId))];
    const active = await this.deps.upgrades.activeForDevices(deviceIds);
    if (!active.length && !events.some((e) => e.kind === 'task_request')) return;
    const byDevice = new Map<number, UpgradeWithDevice[]>();
    for (const upgrade of active)
      byDevice.set(upgrade.deviceId, [...(byDevice.get(upgrade.deviceId) ?? []), upgrade]);
    // The batch's jobs in one read, as they stand when the batch is handled (running, paused, cancelled…).
    const jobs = new Map((await this.deps.jobs.getMany(active.map((u) => u.jobId))).map((j) => [j.id, j]));
    const pending = new PendingMoves();
    for (const event of events) {
      const mine = byDevice.get(event.deviceId) ?? [];
      try {
        switch (event.kind) {
          case 'version': {
            const upgrade = mine.find((u) => u.module === event.module);
            const job = upgrade && jobs.get(upgrade.jobId);
            if (!upgrade || !job) break;
            await this.learnSource(upgrade, job, event.version);
            const moved = decide(pending, upgrade, job, versionEvent(upgrade, job, event.version), event.at);
            // Still on the old version while told to upgrade: it reconnected or rebooted mid-way. Tell it again.
            if (!moved) await this.repushIfTelling(upgrade, job, event.at);
            break;
          }
          case 'progress': {
            const upgrade = pickForProgress(mine, event.report);
            const job = upgrade && jobs.get(upgrade.jobId);
            if (!upgrade || !job) break;
            decide(pending, upgrade, job, progressEvent(event.report), event.at);
            break;
          }
          case 'task_request':
            // Answered on the stored state: what this batch decided so far is written first.
            await this.write(pending);
            await this.answerTaskRequest(event, mine, jobs);
            break;
          case 'online':
            for (const upgrade of mine) {
              const job = jobs.get(upgrade.jobId);
              if (upgrade.state === 'notified' && job && stillTelling(job))
                await this.repush(upgrade, event.at);
            }
            break;
        }
      } catch (error) {
        this.deps.logger.error(
          { err: error, device: event.deviceId, kind: event.kind },
          'device event not applied',
        );
      }
    }
    await this.write(pending);
  }

  /**
   * Writes the batch's decided changes in one transaction. An upgrade whose compare-and-set is lost was moved
   * since it was read — by another instance handling another message of the same device (shared subscriptions
   * split a device's messages between instances), or by the engine. Its events are then decided again, one by
   * one, on a fresh read, not dropped: a dropped version report would lose a success.
   */
  private async write(pending: PendingMoves): Promise<void> {
    const moves = pending.take();
    if (!moves.length) return;
    let applied: Set<number>;
    try {
      applied = await this.deps.upgrades.applyMany(moves.map(toUpgradeMove));
    } catch (error) {
      this.deps.logger.error({ err: error, upgrades: moves.length }, 'device events not applied');
      return;
    }
    for (const { upgrade, job, events } of moves) {
      if (applied.has(upgrade.id)) continue;
      try {
        const fresh = await this.deps.upgrades.get(upgrade.id);
        if (!fresh) continue;
        Object.assign(upgrade, fresh);
        for (const { event, at } of events) {
          const moved = await this.move(upgrade, job, event, at);
          if (!moved && event.type === 'version_reported') await this.repushIfTelling(upgrade, job, at);
        }
      } catch (error) {
        this.deps.logger.error({ err: error, upgrade: upgrade.id }, 'device events not applied');
      }
    }
  }

  /**
   * Applies one event with compare-and-set, deciding again on a fresh read each time the compare-and-set is
   * lost, and updates the in-batch copy; returns whether anything changed.
   */
  private async move(
    upgrade: UpgradeWithDevice,
    job: Job,
    event: UpgradeEvent,
    at: number,
  ): Promise<boolean> {
    for (let attempt = 0; attempt < MAX_COMPARE_AND_SET_ATTEMPTS; attempt++) {
      const change = changeFor(upgrade, job, event, at);
      if (!change) return false;
      if (await this.deps.upgrades.apply(upgrade.id, change, at)) {
        applyToCopy(upgrade, change);
        return true;
      }
      const fresh = await this.deps.upgrades.get(upgrade.id);
      if (!fresh) return false;
      Object.assign(upgrade, fresh);
    }
    this.deps.logger.warn(
      { upgrade: upgrade.id, event: event.type },
      'upgrade kept changing; event not applied',
    );
    return false;
  }

  private async repushIfTelling(upgrade: UpgradeWithDevice, job: Job, at: number): Promise<void> {
    if (IN_FLIGHT_STATES.includes(upgrade.state) && stillTelling(job)) await this.repush(upgrade, at);
  }

  /**
   * A device selected before it ever reported a version has no known source, so any version but the target would
   * count as "another version" and fail it — typically the moment it connects and reports what it runs. The first
   * version it reports is the one it ran when selected: record it as the source.
   */
  private async learnSource(upgrade: UpgradeWithDevice, job: Job, version: string): Promise<void> {
    if (upgrade.sourceVersion !== null || sameVersion(version, upgrade.targetVersion)) return;
    if (job.sourceVersions.some((source) => sameVersion(source, version))) return;
    if (await this.deps.upgrades.adoptSourceVersion(upgrade.id, version)) upgrade.sourceVersion = version;
  }

  private async repush(upgrade: UpgradeWithDevice, at: number): Promise<void> {
    const firmware = await this.deps.firmware.get(upgrade.firmwareId);
    if (!firmware) return;
    await this.deps.messenger.pushTask(
      { productKey: upgrade.productKey, deviceName: upgrade.deviceName, dialect: upgrade.dialect },
      buildTask(firmware, this.deps.urls, at),
    );
  }

  private async answerTaskRequest(
    event: Extract<DeviceEvent, { kind: 'task_request' }>,
    mine: UpgradeWithDevice[],
    jobs: ReadonlyMap<number, Job>,
  ): Promise<void> {
    const request: TaskRequest = event.request;
    const candidates = mine.filter((u) => request.module === undefined || u.module === request.module);
    let answer: UpgradeWithDevice | undefined;
    for (const upgrade of candidates) {
      const job = jobs.get(upgrade.jobId);
      if (!job) continue;
      if (upgrade.state === 'queued') {
        // A device asking is online and ready: dispatch now what the engine would dispatch on its next tick anyway.
        if (!mayDispatchOnRequest(job, upgrade, event.at)) continue;
        // Whoever dispatches it (this request, or the engine meanwhile), it is then the device's task.
        await this.move(upgrade, job, { type: 'dispatched' }, event.at);
      }
      if (!IN_FLIGHT_STATES.includes(upgrade.state) || !stillTelling(job)) continue;
      answer = upgrade;
      break;
    }
    const firmware = answer && (await this.deps.firmware.get(answer.firmwareId));
    const dialect = answer?.dialect ?? (await this.dialectOf(event.productKey));
    if (!dialect) return;
    await this.deps.messenger.replyTask(
      { productKey: event.productKey, deviceName: event.deviceName, dialect },
      request,
      firmware ? buildTask(firmware, this.deps.urls, event.at) : undefined,
    );
  }

  private async dialectOf(productKey: string) {
    return (await this.deps.products.get(productKey))?.dialect;
  }
}

/** Decides an event on the in-batch copy of the upgrade and queues the change; returns whether it changes anything. */
function decide(
  pending: PendingMoves,
  upgrade: UpgradeWithDevice,
  job: Job,
  event: UpgradeEvent,
  at: number,
): boolean {
  const change = changeFor(upgrade, job, event, at);
  if (change) pending.add(upgrade, job, event, change, at);
  return change !== undefined;
}

function versionEvent(upgrade: UpgradeWithDevice, job: Job, version: string): UpgradeEvent {
  return {
    type: 'version_reported',
    version,
    targetVersion: upgrade.targetVersion,
    sourceVersions: sourceVersionsOf(upgrade, job),
  };
}

/** Each loss means another writer made progress, so a handful of attempts always suffices in practice. */
const MAX_COMPARE_AND_SET_ATTEMPTS = 5;

/** A paused job tells nobody new, but a device told before the pause may still be told again (fresh URL). */
function stillTelling(job: Job): boolean {
  return job.state === 'running' || job.state === 'paused';
}

/**
 * Whether a queued upgrade may be dispatched because its device asked, without the engine: only when the
 * strategy would not hold it back. A staged group not open yet, a rate limit or the end time leave it to the
 * engine, which counts and orders dispatches (the device then hears "nothing pending" and gets the push later).
 */
function mayDispatchOnRequest(job: Job, upgrade: UpgradeWithDevice, at: number): boolean {
  const { strategy } = job;
  return (
    job.state === 'running' &&
    upgrade.groupIndex <= job.currentGroup &&
    strategy.maxPerMinute === undefined &&
    strategy.maxInFlight === undefined &&
    (strategy.endAt === undefined || at < strategy.endAt)
  );
}

/** Tencent progress names no module: use the upgrade whose target it names, or the device's only one. */
function pickForProgress(mine: UpgradeWithDevice[], report: ProgressReport): UpgradeWithDevice | undefined {
  if (report.module !== undefined) return mine.find((u) => u.module === report.module);
  if (report.version !== undefined) {
    const byTarget = mine.find((u) => u.targetVersion === report.version);
    if (byTarget) return byTarget;
  }
  return mine.length === 1 ? mine[0] : undefined;
}

function progressEvent(report: ProgressReport): UpgradeEvent {
  if (report.phase === 'failed') {
    return { type: 'device_failed', error: report.error ?? 'other', message: report.message };
  }
  return { type: 'progress', phase: report.phase, percent: report.percent };
}
