import type { ProgressPhase, UpgradeErrorCode } from '@aloft/protocol';
import { sameVersion } from './version.js';

/** Where one device stands in one upgrade (one job, one device, one module). */
export type UpgradeState =
  /** Selected by a job, not yet told: waiting for the schedule, the rate limit or the device to come online. */
  | 'queued'
  /** The upgrade message was published; the device has not reported progress yet. */
  | 'notified'
  /** The device reports fetching the package. */
  | 'downloading'
  /** The device has the package and reports verifying or flashing it. */
  | 'installing'
  /** The device reported the target version: the only proof of success. */
  | 'succeeded'
  /** The device reported an error, or a version that is neither a source nor the target. */
  | 'failed'
  /** The device made no progress within the per-device timeout. */
  | 'timed_out'
  /** An operator or the job stopped this upgrade before it finished. */
  | 'cancelled';

/** Not started on the device yet ("pending" tab). */
export const PENDING_UPGRADE_STATES: readonly UpgradeState[] = ['queued', 'notified'];
/** Working on the device ("upgrading" tab). */
export const UPGRADING_STATES: readonly UpgradeState[] = ['downloading', 'installing'];
/** Not finished: a device has at most one active upgrade per module. */
export const ACTIVE_UPGRADE_STATES: readonly UpgradeState[] = [
  ...PENDING_UPGRADE_STATES,
  ...UPGRADING_STATES,
];
/** Told and not finished: what `maxInFlight` limits and the per-device timeout watches. */
export const IN_FLIGHT_UPGRADE_STATES: readonly UpgradeState[] = ['notified', ...UPGRADING_STATES];
/** Finished; only `retry` leaves `failed` or `timed_out`, nothing leaves the others. */
export const TERMINAL_UPGRADE_STATES: readonly UpgradeState[] = [
  'succeeded',
  'failed',
  'timed_out',
  'cancelled',
];
/** Every state, in lifecycle order. */
export const UPGRADE_STATES: readonly UpgradeState[] = [...ACTIVE_UPGRADE_STATES, ...TERMINAL_UPGRADE_STATES];

export function isTerminalUpgradeState(state: UpgradeState): boolean {
  return TERMINAL_UPGRADE_STATES.includes(state);
}

export function isActiveUpgradeState(state: UpgradeState): boolean {
  return ACTIVE_UPGRADE_STATES.includes(state);
}

/** A phase of work on the device; a failure arrives as the `device_failed` event instead. */
export type UpgradePhase = Exclude<ProgressPhase, 'failed'>;

/** The furthest progress applied so far. */
export interface UpgradeProgress {
  readonly phase: UpgradePhase;
  /** 0..100 within `phase`. */
  readonly percent: number;
}

/** What the machine needs to know about an upgrade: the row as read, before compare-and-set. */
export interface UpgradeSnapshot {
  readonly state: UpgradeState;
  /** Absent until the first progress report, and again after a retry. */
  readonly progress?: UpgradeProgress | undefined;
}

/** Why an upgrade failed, for the operator. */
export interface UpgradeFailure {
  readonly error: UpgradeErrorCode;
  readonly message?: string | undefined;
}

/** Something that happened to an upgrade: a device message (after dialect decoding), or an engine/operator action. */
export type UpgradeEvent =
  /** The engine published the upgrade message (or re-published it with a fresh URL). */
  | { readonly type: 'dispatched' }
  /** The device reports progress. `percent` absent means "entered this phase". */
  | { readonly type: 'progress'; readonly phase: UpgradePhase; readonly percent?: number | undefined }
  /** The device reports a failure. */
  | {
      readonly type: 'device_failed';
      readonly error: UpgradeErrorCode;
      readonly message?: string | undefined;
    }
  /**
   * The device reports the version running in this upgrade's module. `sourceVersions` are the versions
   * that mean "not upgraded yet": the version the device ran when selected plus the job's source
   * versions. Without them every version but the target counts as a failure.
   */
  | {
      readonly type: 'version_reported';
      readonly version: string;
      readonly targetVersion: string;
      readonly sourceVersions: readonly string[];
    }
  /** The engine found no progress within the per-device timeout. */
  | { readonly type: 'timed_out' }
  /** An operator cancelled the upgrade, or its job was cancelled or aborted. */
  | { readonly type: 'cancelled' }
  /** The engine retries a failed or timed-out upgrade. */
  | { readonly type: 'retry' };

export type UpgradeEventType = UpgradeEvent['type'];

export const UPGRADE_EVENT_TYPES: readonly UpgradeEventType[] = [
  'dispatched',
  'progress',
  'device_failed',
  'version_reported',
  'timed_out',
  'cancelled',
  'retry',
];

/** Why an event changed nothing although nothing is wrong: device messages arrive late, twice and out of order. */
export type UpgradeIgnoreReason =
  /** A device message for an upgrade not yet dispatched in this attempt (e.g. left over from the previous one). */
  | 'not_dispatched'
  /** A re-publish: the device was already told. */
  | 'already_dispatched'
  /** Progress for an earlier phase, or a percent not above the recorded one. */
  | 'stale_progress'
  /** The device still runs a source version (typically after reconnecting mid-upgrade). */
  | 'source_version';

/** Why an event was not allowed: the caller asked for a move the table forbids. */
export type UpgradeRefusalReason =
  /** The upgrade has finished; only `retry` of `failed` or `timed_out` leaves a terminal state. */
  | 'terminal'
  /** The event makes no sense in this active state (e.g. retrying an upgrade still in flight). */
  | 'not_allowed';

/**
 * The result of one event. `applied`: persist `next` with compare-and-set on the snapshot read (the
 * state may be unchanged when only the progress advanced). `ignored`: nothing to write, nothing wrong.
 * `refused`: nothing to write, and the caller asked for something forbidden.
 */
export type UpgradeTransition =
  | { readonly outcome: 'applied'; readonly next: UpgradeSnapshot; readonly failure?: UpgradeFailure }
  | { readonly outcome: 'ignored'; readonly reason: UpgradeIgnoreReason }
  | { readonly outcome: 'refused'; readonly reason: UpgradeRefusalReason };

type Move = { readonly do: 'move'; readonly to: UpgradeState };
type Ignore = { readonly do: 'ignore'; readonly reason: UpgradeIgnoreReason };
type Refuse = { readonly do: 'refuse'; readonly reason: UpgradeRefusalReason };
/** Follow the reported phase forward; ignore anything not ahead of the recorded progress. */
type Advance = { readonly do: 'advance' };
/** Target version → succeeded; a source version → ignored; any other version → `otherwise`. */
type JudgeVersion = { readonly do: 'judge_version'; readonly otherwise: 'fail' | 'ignore' };
type Cell<E extends UpgradeEventType> =
  | Move
  | Ignore
  | Refuse
  | (E extends 'progress' ? Advance : never)
  | (E extends 'version_reported' ? JudgeVersion : never);
type Row = { readonly [E in UpgradeEventType]: Cell<E> };

const move = (to: UpgradeState): Move => ({ do: 'move', to });
const ignore = (reason: UpgradeIgnoreReason): Ignore => ({ do: 'ignore', reason });
const refuse = (reason: UpgradeRefusalReason): Refuse => ({ do: 'refuse', reason });

const IN_FLIGHT: Row = {
  dispatched: ignore('already_dispatched'),
  progress: { do: 'advance' },
  device_failed: move('failed'),
  version_reported: { do: 'judge_version', otherwise: 'fail' },
  timed_out: move('timed_out'),
  cancelled: move('cancelled'),
  retry: refuse('not_allowed'),
};

const FINISHED: Row = {
  dispatched: refuse('terminal'),
  progress: refuse('terminal'),
  device_failed: refuse('terminal'),
  version_reported: refuse('terminal'),
  timed_out: refuse('terminal'),
  cancelled: refuse('terminal'),
  retry: refuse('terminal'),
};

/** The whole per-device machine. Every (state, event) pair has exactly one cell. */
const TRANSITIONS: { readonly [S in UpgradeState]: Row } = {
  queued: {
    dispatched: move('notified'),
    progress: ignore('not_dispatched'),
    device_failed: ignore('not_dispatched'),
    // A queued device already on the target (a late install from the previous attempt) needs no upgrade.
    version_reported: { do: 'judge_version', otherwise: 'ignore' },
    timed_out: refuse('not_allowed'),
    cancelled: move('cancelled'),
    retry: refuse('not_allowed'),
  },
  notified: IN_FLIGHT,
  downloading: IN_FLIGHT,
  installing: IN_FLIGHT,
  succeeded: FINISHED,
  failed: { ...FINISHED, retry: move('queued') },
  timed_out: { ...FINISHED, retry: move('queued') },
  cancelled: FINISHED,
};

/** Verifying belongs to `installing`: the bytes are on the device, it is applying them. */
const PHASE_STATE: Readonly<Record<UpgradePhase, UpgradeState>> = {
  downloading: 'downloading',
  verifying: 'installing',
  installing: 'installing',
};
const PHASE_ORDER: Readonly<Record<UpgradePhase, number>> = { downloading: 0, verifying: 1, installing: 2 };

/**
 * Applies one event to an upgrade. Pure: the caller persists `next` with compare-and-set
 * (`UPDATE ... WHERE state = <snapshot.state>`) so two server instances never apply conflicting moves.
 *
 * Progress never moves backwards, and 100% proves nothing: only a `version_reported` naming the target
 * version succeeds, so a device stuck at 100% stays `installing` until the engine times it out.
 */
export function transitionUpgrade(current: UpgradeSnapshot, event: UpgradeEvent): UpgradeTransition {
  const row = TRANSITIONS[current.state];
  switch (event.type) {
    case 'progress': {
      const cell = row.progress;
      return cell.do === 'advance' ? advance(current, event) : apply(current, cell, event);
    }
    case 'version_reported': {
      const cell = row.version_reported;
      return cell.do === 'judge_version'
        ? judgeVersion(current, event, cell.otherwise)
        : apply(current, cell, event);
    }
    default:
      return apply(current, row[event.type], event);
  }
}

function apply(
  current: UpgradeSnapshot,
  cell: Move | Ignore | Refuse,
  event: UpgradeEvent,
): UpgradeTransition {
  if (cell.do === 'ignore') return { outcome: 'ignored', reason: cell.reason };
  if (cell.do === 'refuse') return { outcome: 'refused', reason: cell.reason };
  // A retry starts over: the previous attempt's progress must not hold back the new one's.
  if (cell.to === 'queued') return { outcome: 'applied', next: { state: 'queued' } };
  const next = { ...current, state: cell.to };
  if (event.type !== 'device_failed') return { outcome: 'applied', next };
  return { outcome: 'applied', next, failure: { error: event.error, message: event.message } };
}

function advance(
  current: UpgradeSnapshot,
  event: Extract<UpgradeEvent, { type: 'progress' }>,
): UpgradeTransition {
  const percent = clampPercent(event.percent);
  const recorded = current.progress;
  if (recorded) {
    const phaseOrder = PHASE_ORDER[event.phase] - PHASE_ORDER[recorded.phase];
    const ahead = phaseOrder > 0 || (phaseOrder === 0 && percent !== undefined && percent > recorded.percent);
    if (!ahead) return { outcome: 'ignored', reason: 'stale_progress' };
  }
  return {
    outcome: 'applied',
    next: { state: PHASE_STATE[event.phase], progress: { phase: event.phase, percent: percent ?? 0 } },
  };
}

function judgeVersion(
  current: UpgradeSnapshot,
  event: Extract<UpgradeEvent, { type: 'version_reported' }>,
  otherwise: JudgeVersion['otherwise'],
): UpgradeTransition {
  // Target first: re-flashing the running version is legal, and then the target is also a source.
  if (sameVersion(event.version, event.targetVersion)) {
    return { outcome: 'applied', next: { ...current, state: 'succeeded' } };
  }
  if (event.sourceVersions.some((source) => sameVersion(source, event.version))) {
    return { outcome: 'ignored', reason: 'source_version' };
  }
  if (otherwise === 'ignore') return { outcome: 'ignored', reason: 'not_dispatched' };
  return {
    outcome: 'applied',
    next: { ...current, state: 'failed' },
    failure: {
      error: 'other',
      message: `device reported version ${event.version}, neither the target ${event.targetVersion} nor a source version`,
    },
  };
}

/** Dialects send percents as strings and sometimes out of range; NaN carries no information. */
function clampPercent(percent: number | undefined): number | undefined {
  if (percent === undefined || Number.isNaN(percent)) return undefined;
  return Math.min(100, Math.max(0, percent));
}
