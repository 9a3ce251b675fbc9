import { describe, expect, it } from 'vitest';
import type { JobDetail } from '../api/index.js';
import { formatJobLine, formatJobSummary } from './job-view.js';

const base: JobDetail = {
  id: 7,
  kind: 'batch',
  name: 'spring rollout',
  productKey: 'lamp',
  firmwareId: 3,
  module: 'default',
  targetVersion: '2.0.0',
  state: 'running',
  targets: {},
  sourceVersions: [],
  strategy: {},
  dynamic: false,
  allowUnverified: false,
  supersede: false,
  parentJobId: null,
  currentGroup: 0,
  selected: 200,
  skipped: 0,
  conflicts: 0,
  reason: null,
  createdAt: 0,
  startedAt: 0,
  finishedAt: null,
  counts: {},
  tabs: { pending: 80, upgrading: 20, succeeded: 95, failed: 5, cancelled: 0 },
  total: 200,
  successRate: 0.95,
  throughputPerMinute: 12.5,
  eta: 600_000,
};

describe('job summary', () => {
  it('shows progress, devices per tab, success rate, throughput and the time left', () => {
    const lines = formatJobSummary(base, 0).split('\n');
    expect(lines[0]).toBe('job 7 (batch) "spring rollout" - running');
    expect(lines[1]).toBe('lamp: firmware 3, default -> 2.0.0');
    expect(lines[2]).toBe(`[${'#'.repeat(15)}${'.'.repeat(15)}]  50.0%  100 of 200 finished`);
    expect(lines[3]).toBe('pending 80   upgrading 20   succeeded 95   failed 5   cancelled 0');
    expect(lines[4]).toMatch(/^success rate 95\.0% {3}throughput 12\.5\/min {3}eta .* \(in 10m 00s\)$/);
  });

  it('shows how long a finished job took instead of an ETA, and why it ended', () => {
    const summary = formatJobSummary(
      { ...base, state: 'aborted', reason: 'failure rate 30% > 20%', startedAt: 0, finishedAt: 125_000 },
      0,
    );
    expect(summary).toContain('- aborted (failure rate 30% > 20%)');
    expect(summary).toContain('took 2m 05s');
    expect(summary).not.toContain('eta');
  });

  it('says the ETA is unknown before anything succeeded', () => {
    expect(formatJobSummary({ ...base, eta: null, successRate: null }, 0)).toContain(
      'success rate -   throughput 12.5/min   eta unknown',
    );
  });

  it('fits the summary on one line for logs', () => {
    expect(formatJobLine(base)).toBe(
      'job 7 running: 100/200 finished (pending 80, upgrading 20, succeeded 95, failed 5, cancelled 0), success rate 95.0%',
    );
  });
});
