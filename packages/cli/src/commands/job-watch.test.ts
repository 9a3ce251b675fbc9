import { describe, expect, it } from 'vitest';
import { type AloftApi, ApiError, type JobDetail, type UpgradeEvent } from '../api/index.js';
import { CliError, type OutputSink } from '../cli-io.js';
import type { Session } from './api-command.js';
import { watchJob } from './job-watch.js';

const job = (state: string, tabs: JobDetail['tabs']): JobDetail => ({
  id: 4,
  kind: 'batch',
  name: 'rollout',
  productKey: 'lamp',
  firmwareId: 2,
  module: 'default',
  targetVersion: '2.0.0',
  state,
  targets: {},
  sourceVersions: [],
  strategy: {},
  dynamic: false,
  allowUnverified: false,
  supersede: false,
  parentJobId: null,
  currentGroup: 0,
  selected: 2,
  skipped: 0,
  conflicts: 0,
  reason: state === 'aborted' ? 'too many failures' : null,
  createdAt: 0,
  startedAt: 0,
  finishedAt: state === 'running' ? null : 60_000,
  counts: {},
  tabs,
  total: 2,
  successRate: null,
  throughputPerMinute: 0,
  eta: null,
});

/** A session whose API returns `details` in turn and whose event stream is `events` (or refused). */
function fakeSession(
  details: JobDetail[],
  options: { tty?: boolean; json?: boolean; events?: UpgradeEvent[] } = {},
) {
  let out = '';
  const stdout: OutputSink = {
    isTTY: options.tty ?? false,
    write(chunk) {
      out += String(chunk);
      return true;
    },
  };
  let polls = 0;
  let sleeps = 0;
  const api = {
    jobs: { get: async () => details[Math.min(polls++, details.length - 1)]! },
    events: {
      follow: async () => {
        if (!options.events)
          throw new ApiError(404, 'ALOFT_NOT_FOUND', 'Route GET /api/v1/jobs/4/events not found');
        const events = options.events;
        return (async function* () {
          yield* events;
        })();
      },
    },
  } as unknown as AloftApi;
  const session: Session<unknown> = {
    api,
    options: {},
    json: options.json ?? false,
    io: {
      stdout,
      stderr: stdout,
      env: {},
      sleep: async () => {
        sleeps++;
      },
    },
    print: () => {},
    note: () => {},
  };
  return { session, output: () => out, polls: () => polls, sleeps: () => sleeps };
}

const running = job('running', { pending: 2, upgrading: 0, succeeded: 0, failed: 0, cancelled: 0 });
const halfway = job('running', { pending: 1, upgrading: 0, succeeded: 1, failed: 0, cancelled: 0 });
const completed = job('completed', { pending: 0, upgrading: 0, succeeded: 2, failed: 0, cancelled: 0 });

describe('watchJob', () => {
  it('polls until the job ends, printing a line only when the counts change (no event stream)', async () => {
    const fake = fakeSession([running, running, halfway, halfway, completed]);
    await expect(watchJob(fake.session, 4, 1000)).resolves.toMatchObject({ state: 'completed' });
    const lines = fake.output().trim().split('\n');
    expect(lines.slice(0, 3)).toEqual([
      'job 4 running: 0/2 finished (pending 2, upgrading 0, succeeded 0, failed 0, cancelled 0), success rate -',
      'job 4 running: 1/2 finished (pending 1, upgrading 0, succeeded 1, failed 0, cancelled 0), success rate -',
      'job 4 completed: 2/2 finished (pending 0, upgrading 0, succeeded 2, failed 0, cancelled 0), success rate -',
    ]);
    expect(lines[3]).toBe('job 4 (batch) "rollout" - completed');
    expect(fake.polls()).toBe(5);
  });

  it('redraws in place on a terminal, with the latest events under the summary', async () => {
    const event: UpgradeEvent = {
      id: 1,
      type: 'upgrade.state',
      jobId: 4,
      upgradeId: 9,
      deviceId: 3,
      deviceName: 'lamp-1',
      productKey: 'lamp',
      fromState: 'notified',
      toState: 'downloading',
      phase: 'downloading',
      percent: 40,
      errorCode: null,
      message: null,
      at: 0,
    };
    const fake = fakeSession([running, completed], { tty: true, events: [event] });
    await watchJob(fake.session, 4, 1000);
    const output = fake.output();
    const first = output.slice(0, output.indexOf('\x1b['));
    // The redraw goes back up exactly over the previous drawing, clears, and draws the final state.
    expect(output).toContain(
      `\x1b[${first.split('\n').length - 1}F\x1b[Jjob 4 (batch) "rollout" - completed`,
    );
    expect(fake.output()).toContain('job 4  lamp-1  notified -> downloading 40%');
  });

  it('prints one JSON detail per change with --json', async () => {
    const fake = fakeSession([running, running, completed], { json: true });
    await watchJob(fake.session, 4, 1000);
    const states = fake
      .output()
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as JobDetail).state);
    expect(states).toEqual(['running', 'completed']);
  });

  it('fails when the job ends other than completed, or completed with failures', async () => {
    const aborted = job('aborted', { pending: 0, upgrading: 0, succeeded: 0, failed: 2, cancelled: 0 });
    await expect(watchJob(fakeSession([aborted]).session, 4, 1000)).rejects.toThrow(
      new CliError('job 4 ended aborted: too many failures'),
    );
    const partly = job('completed', { pending: 0, upgrading: 0, succeeded: 1, failed: 1, cancelled: 0 });
    await expect(watchJob(fakeSession([partly]).session, 4, 1000)).rejects.toThrow(
      new CliError('job 4 completed with 1 failed device(s)'),
    );
  });
});
