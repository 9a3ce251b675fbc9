import type { Job, JobDetail, UpgradeEvent } from '../api/index.js';
import { formatDuration, formatPercent, formatTime, progressBar } from '../output/format.js';
import { formatDetails } from '../output/table.js';

/** Job states after which nothing changes any more. */
export const FINAL_JOB_STATES: ReadonlySet<string> = new Set(['completed', 'cancelled', 'aborted']);

/** The order device tabs are shown in. */
const TABS = ['pending', 'upgrading', 'succeeded', 'failed', 'cancelled'] as const;

/** A job's details for humans. */
export function formatJob(job: Job): string {
  return formatDetails([
    ['job', job.id],
    ['kind', job.kind],
    ['name', job.name],
    ['state', job.reason ? `${job.state} (${job.reason})` : job.state],
    ['product', job.productKey],
    ['firmware', job.firmwareId],
    ['module', job.module],
    ['target version', job.targetVersion],
    ['source versions', job.sourceVersions.length ? job.sourceVersions.join(', ') : 'any'],
    [
      'devices',
      `${job.selected} selected, ${job.skipped} already on target, ${job.conflicts} busy elsewhere`,
    ],
    ['retry of job', job.parentJobId ?? undefined],
    ['created', formatTime(job.createdAt)],
    ['started', formatTime(job.startedAt)],
    ['finished', formatTime(job.finishedAt)],
  ]);
}

/** Devices that reached an end state: succeeded, failed (incl. timed out) or cancelled. */
export function finishedCount(detail: JobDetail): number {
  return (detail.tabs.succeeded ?? 0) + (detail.tabs.failed ?? 0) + (detail.tabs.cancelled ?? 0);
}

/**
 * The live summary `jobs watch` redraws and `jobs show` ends with: state, progress bar, devices per tab,
 * success rate, throughput and ETA. `now` is epoch ms (for "in 5m").
 */
export function formatJobSummary(detail: JobDetail, now: number): string {
  const finished = finishedCount(detail);
  const ratio = detail.total > 0 ? finished / detail.total : FINAL_JOB_STATES.has(detail.state) ? 1 : 0;
  const state = detail.reason ? `${detail.state} (${detail.reason})` : detail.state;
  const lines = [
    `job ${detail.id} (${detail.kind}) ${detail.name ? `"${detail.name}" ` : ''}- ${state}`,
    `${detail.productKey}: firmware ${detail.firmwareId}, ${detail.module} -> ${detail.targetVersion}`,
    `${progressBar(ratio)} ${formatPercent(ratio).padStart(6)}  ${finished} of ${detail.total} finished`,
    TABS.map((tab) => `${tab} ${detail.tabs[tab] ?? 0}`).join('   '),
  ];
  const pace = [
    `success rate ${formatPercent(detail.successRate)}`,
    `throughput ${detail.throughputPerMinute.toFixed(1)}/min`,
  ];
  if (FINAL_JOB_STATES.has(detail.state)) {
    if (detail.finishedAt !== null && detail.startedAt !== null) {
      pace.push(`took ${formatDuration(detail.finishedAt - detail.startedAt)}`);
    }
  } else {
    pace.push(
      detail.eta === null
        ? 'eta unknown'
        : `eta ${formatTime(detail.eta)} (in ${formatDuration(detail.eta - now)})`,
    );
  }
  lines.push(pace.join('   '));
  return lines.join('\n');
}

/** The summary on one line, for logs: printed only when it changes. */
export function formatJobLine(detail: JobDetail): string {
  const finished = finishedCount(detail);
  const tabs = TABS.map((tab) => `${tab} ${detail.tabs[tab] ?? 0}`).join(', ');
  return `job ${detail.id} ${detail.state}: ${finished}/${detail.total} finished (${tabs}), success rate ${formatPercent(detail.successRate)}`;
}

/** One upgrade event on one line: `2025-06-01 12:00:03  job 7  lamp-1  notified -> downloading 45%`. */
export function formatUpgradeEvent(event: UpgradeEvent): string {
  const device = event.deviceName ?? `device ${event.deviceId}`;
  const change =
    event.fromState === event.toState ? event.toState : `${event.fromState ?? 'new'} -> ${event.toState}`;
  const percent =
    event.percent !== null && !FINAL_UPGRADE_STATES.has(event.toState) ? ` ${event.percent}%` : '';
  const error = [event.errorCode, event.message].filter(Boolean).join(': ');
  return `${formatTime(event.at)}  job ${event.jobId}  ${device}  ${change}${percent}${error ? `  ${error}` : ''}`;
}

const FINAL_UPGRADE_STATES: ReadonlySet<string> = new Set(['succeeded', 'failed', 'timed_out', 'cancelled']);
