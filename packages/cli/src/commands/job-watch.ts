import type { JobDetail } from '../api/index.js';
import { CliError } from '../cli-io.js';
import type { Session } from './api-command.js';
import { FINAL_JOB_STATES, formatJobLine, formatJobSummary } from './job-view.js';

/**
 * Polls a job's detail and redraws its summary until the job ends. On a terminal the summary is redrawn in place;
 * in a log a line is printed when something changed; with --json one JSON object per line, on each change.
 * Resolves when the job completed with no failed device; otherwise throws, so scripts get a non-zero exit.
 */
export async function watchJob(
  session: Session<unknown>,
  jobId: number,
  intervalMs: number,
): Promise<JobDetail> {
  const { io } = session;
  let lastLine = '';
  let drawnLines = 0;
  let detail: JobDetail;
  for (;;) {
    detail = await session.api.jobs.get(jobId);
    const done = FINAL_JOB_STATES.has(detail.state);
    // Counts and state, not eta/throughput (they move every poll): a line only when the job really moved.
    const line = formatJobLine(detail);
    if (session.json) {
      if (line !== lastLine || done) io.stdout.write(`${JSON.stringify(detail)}\n`);
    } else if (io.stdout.isTTY) {
      const summary = formatJobSummary(detail, Date.now());
      // Back to the first line of the previous drawing, clear to the end of the screen, draw again.
      io.stdout.write(`${drawnLines > 0 ? `\x1b[${drawnLines}F\x1b[J` : ''}${summary}\n`);
      drawnLines = summary.split('\n').length;
    } else if (line !== lastLine) {
      io.stdout.write(`${line}\n`);
    }
    lastLine = line;
    if (done) break;
    await io.sleep(intervalMs);
  }
  if (!session.json && !io.stdout.isTTY) io.stdout.write(`${formatJobSummary(detail, Date.now())}\n`);

  const failed = detail.tabs.failed ?? 0;
  if (detail.state !== 'completed') {
    throw new CliError(`job ${jobId} ended ${detail.state}${detail.reason ? `: ${detail.reason}` : ''}`);
  }
  if (failed > 0) throw new CliError(`job ${jobId} completed with ${failed} failed device(s)`);
  return detail;
}
