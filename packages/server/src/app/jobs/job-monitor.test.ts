import { describe, expect, it } from 'vitest';
import type { Job, UpgradeRepository } from '../ports/job-repository.js';
import { JobMonitor } from './job-monitor.js';

const NOW = 1_700_000_000_000;

describe('job monitor', () => {
  it('gives the ETA as whole epoch milliseconds (the API schema is an integer)', async () => {
    // 5 left at 7 per minute: 42,857.142… ms.
    const upgrades = {
      counts: async () => ({ queued: 5, succeeded: 7 }),
      succeededSince: async () => 7,
    } as unknown as UpgradeRepository;
    const job = { id: 1, startedAt: NOW - 60_000 } as Job;
    const detail = await new JobMonitor(upgrades, () => NOW).detail(job);
    expect(detail.throughputPerMinute).toBe(7);
    expect(Number.isInteger(detail.eta)).toBe(true);
    expect(detail.eta).toBe(NOW + 42_857);
  });

  it('asks for a tab’s states, or all of them, and passes the page and search on', async () => {
    const asked: unknown[][] = [];
    const upgrades = {
      list: async (...args: unknown[]) => {
        asked.push(args);
        return { items: [], total: 0, nextAfter: null };
      },
    } as unknown as UpgradeRepository;
    const monitor = new JobMonitor(upgrades, () => NOW);
    await monitor.devices(7, 'failed', { limit: 20, after: 1234 }, 'lamp');
    await monitor.devices(7, 'all', { limit: 50, offset: 100 });
    expect(asked).toEqual([
      [7, ['failed', 'timed_out'], { limit: 20, after: 1234 }, 'lamp'],
      [7, undefined, { limit: 50, offset: 100 }, undefined],
    ]);
  });
});
