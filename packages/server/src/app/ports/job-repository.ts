import type { Dialect } from '@aloft/protocol';
import type {
  JobState,
  RolloutStrategy,
  TargetSpec,
  UpgradeCounts,
  UpgradeState,
} from '../../domain/index.js';

export type JobKind = 'single' | 'verify' | 'batch' | 'retry';

export interface Job {
  id: number;
  kind: JobKind;
  name: string;
  productKey: string;
  firmwareId: number;
  module: string;
  targetVersion: string;
  state: JobState;
  targets: TargetSpec;
  /** Versions that mean "not upgraded yet" (success rule), besides the one each device ran when selected. */
  sourceVersions: string[];
  strategy: RolloutStrategy;
  dynamic: boolean;
  allowUnverified: boolean;
  supersede: boolean;
  parentJobId: number | null;
  currentGroup: number;
  selected: number;
  skipped: number;
  conflicts: number;
  reason: string | null;
  /** Dynamic jobs: version reports up to this time have been considered for enrolment. */
  enrolledUntil: number;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
}

export type NewJob = Omit<
  Job,
  | 'id'
  | 'currentGroup'
  | 'selected'
  | 'skipped'
  | 'conflicts'
  | 'reason'
  | 'enrolledUntil'
  | 'finishedAt'
  | 'createdAt'
>;

export interface JobFilter {
  productKey?: string;
  state?: JobState;
  kind?: JobKind;
  limit: number;
  offset: number;
}

export interface JobRepository {
  create(job: NewJob, now: number): Promise<Job>;
  get(id: number): Promise<Job | undefined>;
  /** The jobs of these ids that exist, read together (an ingest batch's upgrades read their jobs in one query). */
  getMany(ids: readonly number[]): Promise<Job[]>;
  list(filter: JobFilter): Promise<{ items: Job[]; total: number }>;
  /** Compare-and-set of the job state; returns whether this caller moved it. */
  moveState(
    id: number,
    from: readonly JobState[],
    to: JobState,
    patch: { startedAt?: number; finishedAt?: number; reason?: string },
  ): Promise<boolean>;
  /** Compare-and-set of the staged group the job may dispatch. */
  advanceGroup(id: number, from: number, to: number): Promise<boolean>;
  /**
   * Jobs the engine must look at: scheduled, running and paused ones, and cancelled or aborted ones whose
   * upgrades are not all cancelled yet.
   */
  workable(now: number): Promise<Job[]>;
  unfinishedUsingFirmware(firmwareId: number): Promise<number[]>;
}

/** One device's upgrade in one job, as stored. */
export interface Upgrade {
  id: number;
  jobId: number;
  deviceId: number;
  module: string;
  targetVersion: string;
  sourceVersion: string | null;
  state: UpgradeState;
  phase: string | null;
  percent: number | null;
  errorCode: string | null;
  errorMessage: string | null;
  attempt: number;
  groupIndex: number;
  queuedAt: number;
  notifiedAt: number | null;
  lastActivityAt: number;
  finishedAt: number | null;
  retryAt: number | null;
}

/** An upgrade with what is needed to talk to its device. */
export interface UpgradeWithDevice extends Upgrade {
  productKey: string;
  deviceName: string;
  dialect: Dialect;
  firmwareId: number;
}

/** A new upgrade to create. */
export interface UpgradeSeed {
  deviceId: number;
  sourceVersion: string | null;
  groupIndex: number;
  /** False when an earlier pass already considered (and counted) this device: it is not counted as a conflict again. */
  countConflict?: boolean;
}

/**
 * One enrolment pass of a job: its new upgrades, the job's selection counters and `enrolledUntil`, written in one
 * transaction. A server killed halfway has written nothing and runs the pass again; of two instances running the
 * same pass, the one that moves `enrolledUntil` first wins and the other writes nothing.
 */
export interface EnrolmentPass {
  /** The job's `enrolledUntil` the pass started from (compare-and-set). */
  from: number;
  /** The job's new `enrolledUntil`; greater than `from`. */
  until: number;
  seeds: readonly UpgradeSeed[];
  /** Matching devices already on the target version. */
  skipped: number;
}

/** A change to persist with compare-and-set on `expect`. */
export interface UpgradeChange {
  expect: { state: UpgradeState; phase: string | null; percent: number | null };
  state: UpgradeState;
  phase: string | null;
  percent: number | null;
  errorCode?: string | null;
  errorMessage?: string | null;
  retryAt?: number | null;
  notifiedAt?: number;
  attempt?: number;
  /** For the history entry. */
  message?: string | null;
}

/**
 * Changes decided one after another for one upgrade — each step expects the state the step before left — applied
 * together or not at all.
 */
export interface UpgradeMove {
  id: number;
  steps: { change: UpgradeChange; at: number }[];
}

export interface UpgradeListRow extends Upgrade {
  deviceName: string;
  currentVersion: string | null;
}

/**
 * Where a page of a job's device tab starts: past `offset` rows of the tab, or (keyset) after the upgrade id `after`
 * — the `nextAfter` of the page before — which costs the same at any depth.
 */
export type UpgradePage =
  | { limit: number; offset: number; after?: never }
  | { limit: number; after: number; offset?: never };

/** One page of a device tab, in upgrade id order. */
export interface UpgradeListPage {
  items: UpgradeListRow[];
  /** Rows in the tab (matching the search, if any). */
  total: number;
  /** The last id of this page when another page follows (pass it as `after`); null on the last page. */
  nextAfter: number | null;
}

export interface UpgradeEventRecord {
  id: number;
  upgradeId: number;
  jobId: number;
  deviceId: number;
  fromState: string | null;
  toState: string;
  phase: string | null;
  percent: number | null;
  errorCode: string | null;
  message: string | null;
  at: number;
}

export interface UpgradeRepository {
  /**
   * Runs one enrolment pass atomically (see `EnrolmentPass`). Devices with another active upgrade of the module
   * are left out (counted as conflicts) — unless `supersede`, which cancels those first. Returns how many were
   * created and left out, or undefined when another pass moved `enrolledUntil` first and this one wrote nothing.
   */
  enrol(
    job: { id: number; module: string; targetVersion: string; supersede: boolean },
    pass: EnrolmentPass,
    now: number,
  ): Promise<{ created: number; conflicts: number } | undefined>;
  get(id: number): Promise<Upgrade | undefined>;
  /** Applies a change if the row still matches `expect`; records the transition in the history. */
  apply(id: number, change: UpgradeChange, now: number): Promise<boolean>;
  /**
   * Applies many upgrades' moves (at most one per upgrade) in one transaction, each compare-and-set on its first
   * step's `expect`, with a history entry per step. Returns the ids applied; the others lost a race (or would make
   * a second active upgrade of a module) and wrote nothing.
   */
  applyMany(moves: readonly UpgradeMove[]): Promise<Set<number>>;
  /**
   * Records the version a device runs as the upgrade's source when none was known (the device had never reported
   * one when it was selected). Compare-and-set on "still unknown"; returns whether this call recorded it.
   */
  adoptSourceVersion(id: number, version: string): Promise<boolean>;
  /**
   * Claims up to `limit` queued upgrades of online devices in groups ≤ `maxGroup` and marks them notified. With
   * `limits`, the job's devices in flight and dispatched in the last minute are counted in the claiming
   * transaction with the job locked, and the claim stays within them: instances claiming at once cannot together
   * exceed a limit. `deliver` tells the devices inside that transaction, before it commits, so a server that dies
   * in between leaves them queued (told again later: at least once) instead of notified but never told. It must
   * not use the database (on SQLite the transaction holds the only connection).
   */
  claimForDispatch(
    jobId: number,
    maxGroup: number,
    limit: number,
    now: number,
    limits?: Pick<RolloutStrategy, 'maxPerMinute' | 'maxInFlight'>,
    deliver?: (claimed: UpgradeWithDevice[]) => Promise<void>,
  ): Promise<UpgradeWithDevice[]>;
  counts(jobId: number): Promise<UpgradeCounts>;
  countsInGroup(jobId: number, group: number): Promise<UpgradeCounts>;
  dispatchedSince(jobId: number, since: number): Promise<number>;
  succeededSince(jobId: number, since: number): Promise<number>;
  /** In-flight upgrades with no activity since `before`. */
  stale(jobId: number, before: number, limit: number): Promise<Upgrade[]>;
  /** Failed / timed-out upgrades whose retry is due. */
  retriesDue(jobId: number, now: number, limit: number): Promise<Upgrade[]>;
  /** How many failed / timed-out upgrades still wait for a retry. */
  retriesPending(jobId: number): Promise<number>;
  /** Queued upgrades of a job (to cancel at end time). */
  queued(jobId: number, limit: number): Promise<Upgrade[]>;
  /** Active upgrades of a job (to cancel with the job). */
  active(jobId: number, limit: number): Promise<Upgrade[]>;
  /** Active upgrades of these devices, with device info. */
  activeForDevices(deviceIds: readonly number[]): Promise<UpgradeWithDevice[]>;
  /** Devices of the product already in the job. */
  enrolledDeviceIds(jobId: number, deviceIds: readonly number[]): Promise<Set<number>>;
  /** A page of a job's upgrades in `states` (all when undefined), device names containing `search`. */
  list(
    jobId: number,
    states: readonly string[] | undefined,
    page: UpgradePage,
    search?: string,
  ): Promise<UpgradeListPage>;
  /** The most recent upgrade of a device's module, with the job's firmware. */
  latestForDevice(deviceId: number, module: string): Promise<Upgrade | undefined>;
  historyOfDevice(
    deviceId: number,
    limit: number,
  ): Promise<{ upgrades: Upgrade[]; events: UpgradeEventRecord[] }>;
  /** History entries after `afterId` (for SSE and webhooks), optionally of one job. */
  eventsAfter(afterId: number, limit: number, jobId?: number): Promise<UpgradeEventRecord[]>;
  /** Failed / timed-out device ids of a job (for a retry job). */
  failedDeviceIds(jobId: number): Promise<{ deviceId: number; sourceVersion: string | null }[]>;
}
