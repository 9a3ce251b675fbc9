/** Where a job stands: `scheduled → running ⇄ paused → completed | cancelled | aborted`. */
export type JobState =
  /** Created; waits for its start time (or an explicit start). */
  | 'scheduled'
  /** The engine selects, dispatches and follows devices. */
  | 'running'
  /** No new dispatches; devices already told keep upgrading and reporting. */
  | 'paused'
  /** Every selected device finished; nothing is left to dispatch or retry. */
  | 'completed'
  /** An operator stopped it; its unfinished upgrades are cancelled. */
  | 'cancelled'
  /** The engine stopped it because a rule tripped (the failure threshold); unfinished upgrades are cancelled. */
  | 'aborted';

export const JOB_STATES: readonly JobState[] = [
  'scheduled',
  'running',
  'paused',
  'completed',
  'cancelled',
  'aborted',
];
/** States a job never leaves. */
export const TERMINAL_JOB_STATES: readonly JobState[] = ['completed', 'cancelled', 'aborted'];

export function isTerminalJobState(state: JobState): boolean {
  return TERMINAL_JOB_STATES.includes(state);
}

/** What can happen to a job: an operator action (start, pause, resume, cancel) or an engine decision (start, complete, abort). */
export type JobEvent = 'start' | 'pause' | 'resume' | 'complete' | 'cancel' | 'abort';

export const JOB_EVENTS: readonly JobEvent[] = ['start', 'pause', 'resume', 'complete', 'cancel', 'abort'];

/**
 * The result of one event. `applied`: persist `state` with compare-and-set. `ignored`: the job is
 * already where the event would put it (a repeated click, two engine instances), nothing to write.
 * `refused`: the event is not allowed here; `terminal` when the job has finished.
 */
export type JobTransition =
  | { readonly outcome: 'applied'; readonly state: JobState }
  | { readonly outcome: 'ignored'; readonly reason: 'no_change' }
  | { readonly outcome: 'refused'; readonly reason: 'terminal' | 'not_allowed' };

type Cell = JobState | 'ignore' | 'refuse';

/** The whole job machine. Every (state, event) pair has exactly one cell; terminal states refuse everything. */
const TRANSITIONS: { readonly [S in JobState]: { readonly [E in JobEvent]: Cell } } = {
  // Abort needs failures, so it cannot happen before a start; complete likewise.
  scheduled: {
    start: 'running',
    pause: 'refuse',
    resume: 'refuse',
    complete: 'refuse',
    cancel: 'cancelled',
    abort: 'refuse',
  },
  running: {
    start: 'ignore',
    pause: 'paused',
    resume: 'ignore',
    complete: 'completed',
    cancel: 'cancelled',
    abort: 'aborted',
  },
  // Devices told before the pause still finish, so a paused job can trip the failure rule or run out of work.
  paused: {
    start: 'refuse',
    pause: 'ignore',
    resume: 'running',
    complete: 'completed',
    cancel: 'cancelled',
    abort: 'aborted',
  },
  completed: {
    start: 'refuse',
    pause: 'refuse',
    resume: 'refuse',
    complete: 'refuse',
    cancel: 'refuse',
    abort: 'refuse',
  },
  cancelled: {
    start: 'refuse',
    pause: 'refuse',
    resume: 'refuse',
    complete: 'refuse',
    cancel: 'refuse',
    abort: 'refuse',
  },
  aborted: {
    start: 'refuse',
    pause: 'refuse',
    resume: 'refuse',
    complete: 'refuse',
    cancel: 'refuse',
    abort: 'refuse',
  },
};

/** Applies one event to a job. Pure: the caller persists with compare-and-set on the state it read. */
export function transitionJob(state: JobState, event: JobEvent): JobTransition {
  const cell = TRANSITIONS[state][event];
  if (cell === 'ignore') return { outcome: 'ignored', reason: 'no_change' };
  if (cell === 'refuse')
    return { outcome: 'refused', reason: isTerminalJobState(state) ? 'terminal' : 'not_allowed' };
  return { outcome: 'applied', state: cell };
}
