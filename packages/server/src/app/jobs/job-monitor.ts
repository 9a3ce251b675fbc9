import {
  countIn,
  PENDING_UPGRADE_STATES,
  UPGRADE_STATES,
  UPGRADING_STATES,
  type UpgradeCounts,
  type UpgradeState,
} from '../../domain/index.js';
import type { Clock } from '../clock.js';
import type { Job, UpgradeListPage, UpgradePage, UpgradeRepository } from '../ports/job-repository.js';

/** The device tabs of a job's detail page (as in the Aliyun console). */
export const JOB_TABS = {
  pending: PENDING_UPGRADE_STATES,
  upgrading: UPGRADING_STATES,
  succeeded: ['succeeded'],
  failed: ['failed', 'timed_out'],
  cancelled: ['cancelled'],
} as const satisfies Record<string, readonly UpgradeState[]>;

export type JobTab = keyof typeof JOB_TABS;

export interface JobDetail extends Job {
  counts: Record<UpgradeState, number>;
  tabs: Record<JobTab, number>;
  total: number;
  /** succeeded / finished, 0..1; null before anything finished. */
  successRate: number | null;
  /** Devices succeeded per minute over the last 5 minutes. */
  throughputPerMinute: number;
  /** Epoch ms when the remaining devices should be done at the current throughput; null when unknown. */
  eta: number | null;
}

const WINDOW_MS = 5 * 60_000;

/** What operators watch: counts per state and tab, success rate, throughput, ETA, and the devices behind each tab. */
export class JobMonitor {
  /** Details being computed, per job: see `detail`. */
  private readonly computing = new Map<number, Promise<JobDetail>>();

  constructor(
    private readonly upgrades: UpgradeRepository,
    private readonly clock: Clock,
  ) {}

  /**
   * Requests for a job's detail that arrive while one is being computed share its result, so a crowd of consoles
   * polling one big rollout costs one computation at a time. Nothing is kept once it is answered. (The per-state
   * counts come from the job's counters, kept by every upgrade write; the 5-minute throughput is an index range.)
   */
  async detail(job: Job): Promise<JobDetail> {
    let pending = this.computing.get(job.id);
    if (!pending) {
      pending = this.compute(job).finally(() => this.computing.delete(job.id));
      this.computing.set(job.id, pending);
    }
    // The job row as this request read it; only the counting is shared.
    return { ...(await pending), ...job };
  }

  private async compute(job: Job): Promise<JobDetail> {
    const now = this.clock();
    const raw: UpgradeCounts = await this.upgrades.counts(job.id);
    const counts = Object.fromEntries(UPGRADE_STATES.map((s) => [s, raw[s] ?? 0])) as Record<
      UpgradeState,
      number
    >;
    const tabs = Object.fromEntries(
      Object.entries(JOB_TABS).map(([tab, states]) => [tab, countIn(raw, states)]),
    ) as Record<JobTab, number>;
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    const finished = counts.succeeded + counts.failed + counts.timed_out;
    const recent = await this.upgrades.succeededSince(job.id, now - WINDOW_MS);
    const windowMinutes = Math.max(1, Math.min(WINDOW_MS, now - (job.startedAt ?? now)) / 60_000);
    const throughputPerMinute = recent / windowMinutes;
    const remaining = tabs.pending + tabs.upgrading;
    return {
      ...job,
      counts,
      tabs,
      total,
      successRate: finished ? counts.succeeded / finished : null,
      throughputPerMinute,
      eta:
        remaining === 0
          ? now
          : throughputPerMinute > 0
            ? // Rounded: the API gives epoch milliseconds as integers (a fraction fails the response schema).
              Math.round(now + (remaining / throughputPerMinute) * 60_000)
            : null,
    };
  }

  /** A page of a tab's devices, by offset or after an upgrade id, with the cursor of the next page. */
  devices(jobId: number, tab: JobTab | 'all', page: UpgradePage, search?: string): Promise<UpgradeListPage> {
    return this.upgrades.list(jobId, tab === 'all' ? undefined : JOB_TABS[tab], page, search);
  }
}
