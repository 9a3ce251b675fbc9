import { decideTarget, groupOf, type TargetSpec } from '../../domain/index.js';
import type { DeviceRepository, TargetCandidateRow } from '../ports/device-repository.js';
import type { Job, JobRepository, UpgradeRepository, UpgradeSeed } from '../ports/job-repository.js';

export interface EnrolmentDeps {
  devices: DeviceRepository;
  jobs: JobRepository;
  upgrades: UpgradeRepository;
}

const PAGE = 1000;

/**
 * Selects a job's devices and creates their upgrades. Idempotent: devices already in the job are passed over and the
 * one-active-upgrade index refuses duplicates, so a server killed halfway simply runs it again.
 * `reportedAfter` limits a dynamic job's later passes to devices that reported a version since the last pass.
 */
export async function enrolTargets(
  deps: EnrolmentDeps,
  job: Job,
  now: number,
  reportedAfter?: number,
): Promise<void> {
  const totals = { selected: 0, skipped: 0, conflicts: 0 };
  const names = job.targets.deviceNames;
  // Names are matched in SQL; the rest of the spec is decided per device.
  const spec: TargetSpec = { ...job.targets, deviceNames: undefined };
  const enrolPage = async (page: TargetCandidateRow[]) => {
    const already = await deps.upgrades.enrolledDeviceIds(
      job.id,
      page.map((c) => c.id),
    );
    const seeds: UpgradeSeed[] = [];
    for (const candidate of page) {
      if (already.has(candidate.id)) continue;
      const decision = decideTarget(
        job.id,
        { id: candidate.id, name: candidate.name, tags: candidate.tags, currentVersion: candidate.version },
        spec,
        job.targetVersion,
      );
      if (decision.decision === 'skip') totals.skipped++;
      if (decision.decision !== 'include') continue;
      seeds.push({
        deviceId: candidate.id,
        sourceVersion: candidate.version ?? null,
        groupIndex: job.strategy.groups ? groupOf(job.id, candidate.id, job.strategy.groups) : 0,
      });
    }
    const result = await deps.upgrades.enrol(job, seeds, now);
    totals.selected += result.created;
    totals.conflicts += result.conflicts;
  };

  const base = {
    productKey: job.productKey,
    module: job.module,
    ...(reportedAfter !== undefined ? { reportedAfter } : {}),
  };
  if (names) {
    for (let i = 0; i < names.length; i += 500) {
      const chunk = names.slice(i, i + 500);
      await enrolPage(
        await deps.devices.targetCandidates({ ...base, afterId: 0, limit: chunk.length, names: chunk }),
      );
    }
  } else {
    let afterId = 0;
    for (;;) {
      const page = await deps.devices.targetCandidates({ ...base, afterId, limit: PAGE });
      if (!page.length) break;
      await enrolPage(page);
      afterId = page[page.length - 1]!.id;
    }
  }
  await deps.jobs.addSelection(job.id, totals);
}

/** Enrols the failed and timed-out devices of `parent` into a retry job. */
export async function enrolRetries(
  deps: EnrolmentDeps,
  job: Job,
  parentId: number,
  now: number,
): Promise<void> {
  const failed = await deps.upgrades.failedDeviceIds(parentId);
  const already = await deps.upgrades.enrolledDeviceIds(
    job.id,
    failed.map((f) => f.deviceId),
  );
  const seeds = failed
    .filter((f) => !already.has(f.deviceId))
    .map((f) => ({ deviceId: f.deviceId, sourceVersion: f.sourceVersion, groupIndex: 0 }));
  const result = await deps.upgrades.enrol(job, seeds, now);
  await deps.jobs.addSelection(job.id, { selected: result.created, skipped: 0, conflicts: result.conflicts });
}
