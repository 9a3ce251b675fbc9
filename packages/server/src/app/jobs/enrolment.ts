import { decideTarget, groupOf, type TargetSpec } from '../../domain/index.js';
import type { DeviceRepository, TargetCandidateRow } from '../ports/device-repository.js';
import type { Job, UpgradeRepository, UpgradeSeed } from '../ports/job-repository.js';

export interface EnrolmentDeps {
  devices: DeviceRepository;
  upgrades: UpgradeRepository;
}

const PAGE = 1000;

/**
 * How far back a dynamic job's later passes look before its `enrolledUntil`. A version report is stamped when it
 * arrives but written a batch later (and other instances' clocks differ a little), so a report stamped just
 * before the previous pass can land in the database after that pass read it: re-reading a margin catches it.
 * Re-reading is harmless: devices already in the job are passed over.
 */
export const LATE_REPORT_MARGIN_MS = 30_000;

/**
 * Selects a job's devices and creates their upgrades in one atomic pass (`UpgradeRepository.enrol`): a server
 * killed halfway has written nothing and simply runs it again. The first pass considers every device of the
 * product; a dynamic job's later passes only devices that reported a version since the previous pass.
 */
export async function enrolTargets(deps: EnrolmentDeps, job: Job, now: number): Promise<void> {
  const firstPass = job.enrolledUntil === 0;
  let skipped = 0;
  const seeds: UpgradeSeed[] = [];
  const names = job.targets.deviceNames;
  // Names are matched in SQL; the rest of the spec is decided per device.
  const spec: TargetSpec = { ...job.targets, deviceNames: undefined };
  const considerPage = async (page: TargetCandidateRow[]) => {
    const already = await deps.upgrades.enrolledDeviceIds(
      job.id,
      page.map((c) => c.id),
    );
    for (const candidate of page) {
      if (already.has(candidate.id)) continue;
      // Inside the re-read margin: an earlier pass may have seen (and counted) this device already.
      const seenBefore = !firstPass && (candidate.reportedAt ?? 0) <= job.enrolledUntil;
      const decision = decideTarget(
        job.id,
        { id: candidate.id, name: candidate.name, tags: candidate.tags, currentVersion: candidate.version },
        spec,
        job.targetVersion,
      );
      if (decision.decision === 'skip' && !seenBefore) skipped++;
      if (decision.decision !== 'include') continue;
      seeds.push({
        deviceId: candidate.id,
        sourceVersion: candidate.version ?? null,
        groupIndex: job.strategy.groups ? groupOf(job.id, candidate.id, job.strategy.groups) : 0,
        ...(seenBefore ? { countConflict: false } : {}),
      });
    }
  };

  const base = {
    productKey: job.productKey,
    module: job.module,
    ...(firstPass ? {} : { reportedAfter: job.enrolledUntil - LATE_REPORT_MARGIN_MS }),
  };
  if (names) {
    for (let i = 0; i < names.length; i += 500) {
      const chunk = names.slice(i, i + 500);
      await considerPage(
        await deps.devices.targetCandidates({ ...base, afterId: 0, limit: chunk.length, names: chunk }),
      );
    }
  } else {
    let afterId = 0;
    for (;;) {
      const page = await deps.devices.targetCandidates({ ...base, afterId, limit: PAGE });
      if (!page.length) break;
      await considerPage(page);
      afterId = page[page.length - 1]!.id;
    }
  }
  await deps.upgrades.enrol(job, { from: job.enrolledUntil, until: passEnd(job, now), seeds, skipped }, now);
}

/** Enrols the failed and timed-out devices of `parent` into a retry job (one pass, like `enrolTargets`). */
export async function enrolRetries(
  deps: EnrolmentDeps,
  job: Job,
  parentId: number,
  now: number,
): Promise<void> {
  const failed = await deps.upgrades.failedDeviceIds(parentId);
  const seeds = failed.map((f) => ({ deviceId: f.deviceId, sourceVersion: f.sourceVersion, groupIndex: 0 }));
  await deps.upgrades.enrol(
    job,
    { from: job.enrolledUntil, until: passEnd(job, now), seeds, skipped: 0 },
    now,
  );
}

/** Strictly after the previous pass, so two passes can never share a compare-and-set value. */
function passEnd(job: Job, now: number): number {
  return Math.max(now, job.enrolledUntil + 1);
}
