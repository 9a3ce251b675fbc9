import type { JobDetail } from '../api/index.js';
import { CliError } from '../cli-io.js';
import type { Session } from './api-command.js';
import { JobEventFeed } from './job-event-feed.js';
import { FINAL_JOB_STATES, formatJobLine, formatJobSummary, formatUpgradeEvent } from './job-view.js';

/** The shortest time between two refreshes prompted by events. */
const MIN_REFRESH_MS = 250;

/**
 * Follows a job until it ends: fetches its detail every `intervalMs`, and at once whenever the job's live event
 * stream (when the server has one) reports a device moving. On a terminal the summary (with the latest events) is
 * redrawn in place; in a log a line is printed when the counts change; with --json one JSON object per line, on
 * each change. Resolves when the job completed with no failed device; otherwise throws, so scripts get a non-zero
 * exit.
 */
export async function watchJob(
  session: Session<unknown>,
  jobId: number,
  intervalMs: number,
): Promise<JobDetail> {
  const { io } = session;
  let detail = await session.api.jobs.get(jobId);
  const feed = FINAL_JOB_STATES.has(detail.state) ? undefined : await JobEventFeed.open(session.api, jobId);
  let lastLine = '';
  let drawnLines = 0;
  try {
    for (;;) {
      const done = FINAL_JOB_STATES.has(detail.state);
      // Counts and state, not eta/throughput (they move every poll): a line only when the job really moved.
      const line = formatJobLine(detail);
      if (session.json) {
        if (line !== lastLine || done) io.stdout.write(`${JSON.stringify(detail)}\n`);
      } else if (io.stdout.isTTY) {
        const events = feed?.recent.length ? ['', ...feed.recent.map(formatUpgradeEvent)] : [];
        const drawing = [formatJobSummary(detail, Date.now()), ...events].join('\n');
        // Back to the first line of the previous drawing, clear to the end of the screen, draw again.
        io.stdout.write(`${drawnLines > 0 ? `\x1b[${drawnLines}F\x1b[J` : ''}${drawing}\n`);
        drawnLines = drawing.split('\n').length;
      } else if (line !== lastLine) {
        io.stdout.write(`${line}\n`);
      }
      lastLine = line;
      if (done) break;
      if (feed) {
        // Events can come by the hundred per second in a big rollout: refresh at most a few times a second.
        const gap = Math.min(intervalMs, MIN_REFRESH_MS);
        await io.sleep(gap);
        await Promise.race([io.sleep(intervalMs - gap), feed.next()]);
      } else {
        await io.sleep(intervalMs);
      }
      detail = await session.api.jobs.get(jobId);
    }
  } finally {
    feed?.close();
  }
  if (!session.json && !io.stdout.isTTY) io.stdout.write(`${formatJobSummary(detail, Date.now())}\n`);

  const failed = detail.tabs.failed ?? 0;
  if (detail.state !== 'completed') {
    throw new CliError(`job ${jobId} ended ${detail.state}${detail.reason ? `: ${detail.reason}` : ''}`);
  }
  if (failed > 0) throw new CliError(`job ${jobId} completed with ${failed} failed device(s)`);
  return detail;
}
