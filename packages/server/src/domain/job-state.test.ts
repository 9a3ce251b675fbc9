import { describe, expect, it } from 'vitest';
import {
  isTerminalJobState,
  JOB_EVENTS,
  JOB_STATES,
  type JobEvent,
  type JobState,
  type JobTransition,
  TERMINAL_JOB_STATES,
  transitionJob,
} from './job-state.js';

// A state name: applied, moving there. Otherwise the outcome and its reason.
const T = 'refused:terminal';
const NA = 'refused:not_allowed';
const SAME = 'ignored:no_change';

// biome-ignore format: the expected matrix reads as a table, one row per event, one column per state
const EXPECTED: Record<JobEvent, readonly string[]> = {
  //          scheduled    running      paused       completed cancelled aborted
  start:    ['running',   SAME,        NA,          T,        T,        T],
  pause:    [NA,          'paused',    SAME,        T,        T,        T],
  resume:   [NA,          SAME,        'running',   T,        T,        T],
  complete: [NA,          'completed', 'completed', T,        T,        T],
  cancel:   ['cancelled', 'cancelled', 'cancelled', T,        T,        T],
  abort:    [NA,          'aborted',   'aborted',   T,        T,        T],
};
const COLUMNS: readonly JobState[] = ['scheduled', 'running', 'paused', 'completed', 'cancelled', 'aborted'];

function summary(result: JobTransition): string {
  return result.outcome === 'applied' ? result.state : `${result.outcome}:${result.reason}`;
}

describe('job transition table', () => {
  it('has a row for every event and a column for every state', () => {
    expect(Object.keys(EXPECTED).sort()).toEqual([...JOB_EVENTS].sort());
    expect([...COLUMNS].sort()).toEqual([...JOB_STATES].sort());
  });

  const pairs = JOB_STATES.flatMap((state) =>
    JOB_EVENTS.map((event) => ({ state, event, expected: EXPECTED[event][COLUMNS.indexOf(state)] })),
  );
  it.each(pairs)('$state + $event → $expected', ({ state, event, expected }) => {
    expect(summary(transitionJob(state, event))).toBe(expected);
  });

  it('calls terminal exactly the states that refuse everything', () => {
    for (const state of JOB_STATES) {
      const refusesAll = JOB_EVENTS.every((event) => transitionJob(state, event).outcome === 'refused');
      expect(isTerminalJobState(state)).toBe(refusesAll);
      expect(TERMINAL_JOB_STATES.includes(state)).toBe(refusesAll);
    }
  });
});
