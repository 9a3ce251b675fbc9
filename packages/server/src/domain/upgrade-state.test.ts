import type { UpgradeErrorCode } from '@aloft/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ACTIVE_UPGRADE_STATES,
  IN_FLIGHT_UPGRADE_STATES,
  isActiveUpgradeState,
  isTerminalUpgradeState,
  PENDING_UPGRADE_STATES,
  TERMINAL_UPGRADE_STATES,
  transitionUpgrade,
  UPGRADE_EVENT_TYPES,
  UPGRADE_STATES,
  UPGRADING_STATES,
  type UpgradeEvent,
  type UpgradePhase,
  type UpgradeSnapshot,
  type UpgradeState,
  type UpgradeTransition,
} from './upgrade-state.js';

const version = (v: string): UpgradeEvent => ({
  type: 'version_reported',
  version: v,
  targetVersion: '2.0.0',
  sourceVersions: ['1.0.0'],
});

/** One concrete event per behaviour the table distinguishes. */
const SAMPLES = {
  dispatched: { type: 'dispatched' },
  'download 10%': { type: 'progress', phase: 'downloading', percent: 10 },
  'download 90%': { type: 'progress', phase: 'downloading', percent: 90 },
  verifying: { type: 'progress', phase: 'verifying' },
  'install 100%': { type: 'progress', phase: 'installing', percent: 100 },
  device_failed: { type: 'device_failed', error: 'verify_failed', message: 'md5 mismatch' },
  'version target': version('2.0.0'),
  'version source': version('1.0.0'),
  'version other': version('1.5.0'),
  timed_out: { type: 'timed_out' },
  cancelled: { type: 'cancelled' },
  retry: { type: 'retry' },
} satisfies Record<string, UpgradeEvent>;
type Sample = keyof typeof SAMPLES;

/** Each state as it typically looks when read: in-flight states have progress 40% into their phase. */
const SNAPSHOTS: Record<UpgradeState, UpgradeSnapshot> = {
  queued: { state: 'queued' },
  notified: { state: 'notified' },
  downloading: { state: 'downloading', progress: { phase: 'downloading', percent: 40 } },
  installing: { state: 'installing', progress: { phase: 'installing', percent: 40 } },
  succeeded: { state: 'succeeded', progress: { phase: 'installing', percent: 100 } },
  failed: { state: 'failed', progress: { phase: 'downloading', percent: 40 } },
  timed_out: { state: 'timed_out', progress: { phase: 'installing', percent: 100 } },
  cancelled: { state: 'cancelled' },
};

// A state name: applied, moving there. Otherwise the outcome and its reason.
const T = 'refused:terminal';
const NA = 'refused:not_allowed';
const ND = 'ignored:not_dispatched';
const AD = 'ignored:already_dispatched';
const STALE = 'ignored:stale_progress';
const SRC = 'ignored:source_version';

// biome-ignore format: the expected matrix reads as a table, one row per event, one column per state
const EXPECTED: Record<Sample, readonly string[]> = {
  //                  queued       notified       downloading    installing     succeeded failed    timed_out cancelled
  dispatched:        ['notified',  AD,            AD,            AD,            T,        T,        T,        T],
  'download 10%':    [ND,          'downloading', STALE,         STALE,         T,        T,        T,        T],
  'download 90%':    [ND,          'downloading', 'downloading', STALE,         T,        T,        T,        T],
  verifying:         [ND,          'installing',  'installing',  STALE,         T,        T,        T,        T],
  'install 100%':    [ND,          'installing',  'installing',  'installing',  T,        T,        T,        T],
  device_failed:     [ND,          'failed',      'failed',      'failed',      T,        T,        T,        T],
  'version target':  ['succeeded', 'succeeded',   'succeeded',   'succeeded',   T,        T,        T,        T],
  'version source':  [SRC,         SRC,           SRC,           SRC,           T,        T,        T,        T],
  'version other':   [ND,          'failed',      'failed',      'failed',      T,        T,        T,        T],
  timed_out:         [NA,          'timed_out',   'timed_out',   'timed_out',   T,        T,        T,        T],
  cancelled:         ['cancelled', 'cancelled',   'cancelled',   'cancelled',   T,        T,        T,        T],
  retry:             [NA,          NA,            NA,            NA,            T,        'queued', 'queued', T],
};
const COLUMNS: readonly UpgradeState[] = [
  'queued',
  'notified',
  'downloading',
  'installing',
  'succeeded',
  'failed',
  'timed_out',
  'cancelled',
];

function summary(result: UpgradeTransition): string {
  return result.outcome === 'applied' ? result.next.state : `${result.outcome}:${result.reason}`;
}

function applied(result: UpgradeTransition): UpgradeSnapshot & { failure?: unknown } {
  if (result.outcome !== 'applied') throw new Error(`expected applied, got ${summary(result)}`);
  return { ...result.next, failure: result.failure };
}

describe('upgrade transition table', () => {
  it('has a sample for every event type and a column for every state', () => {
    expect(new Set(Object.values(SAMPLES).map((e) => e.type))).toEqual(new Set(UPGRADE_EVENT_TYPES));
    expect([...COLUMNS].sort()).toEqual([...UPGRADE_STATES].sort());
  });

  const pairs = UPGRADE_STATES.flatMap((state) =>
    (Object.keys(SAMPLES) as Sample[]).map((sample) => {
      const expected = EXPECTED[sample][COLUMNS.indexOf(state)];
      return { state, sample, expected };
    }),
  );
  it.each(pairs)('$state + $sample → $expected', ({ state, sample, expected }) => {
    expect(summary(transitionUpgrade(SNAPSHOTS[state], SAMPLES[sample]))).toBe(expected);
  });
});

describe('progress', () => {
  const downloading40 = SNAPSHOTS.downloading;

  it('records the furthest progress', () => {
    expect(applied(transitionUpgrade(downloading40, SAMPLES['download 90%'])).progress).toEqual({
      phase: 'downloading',
      percent: 90,
    });
  });

  it('ignores a duplicated progress report', () => {
    const duplicate: UpgradeEvent = { type: 'progress', phase: 'downloading', percent: 40 };
    expect(transitionUpgrade(downloading40, duplicate)).toEqual({
      outcome: 'ignored',
      reason: 'stale_progress',
    });
  });

  it('ignores a late report for an earlier phase even with a higher percent', () => {
    const installing5: UpgradeSnapshot = {
      state: 'installing',
      progress: { phase: 'installing', percent: 5 },
    };
    expect(summary(transitionUpgrade(installing5, SAMPLES['download 90%']))).toBe(STALE);
  });

  it('accepts a lower percent in a later phase', () => {
    const download100: UpgradeSnapshot = {
      state: 'downloading',
      progress: { phase: 'downloading', percent: 100 },
    };
    const next = applied(
      transitionUpgrade(download100, { type: 'progress', phase: 'installing', percent: 3 }),
    );
    expect(next).toMatchObject({ state: 'installing', progress: { phase: 'installing', percent: 3 } });
  });

  it('starts a phase reported without a percent at 0, and ignores a repeat of it', () => {
    const next = applied(transitionUpgrade(downloading40, SAMPLES.verifying));
    expect(next.progress).toEqual({ phase: 'verifying', percent: 0 });
    expect(summary(transitionUpgrade(next, SAMPLES.verifying))).toBe(STALE);
  });

  it('keeps a device at 100% installing until it reports the target version', () => {
    const at100 = applied(transitionUpgrade(SNAPSHOTS.installing, SAMPLES['install 100%']));
    expect(at100.state).toBe('installing');
    expect(summary(transitionUpgrade(at100, SAMPLES['install 100%']))).toBe(STALE);
    expect(summary(transitionUpgrade(at100, SAMPLES['version target']))).toBe('succeeded');
  });

  it('clamps a percent out of range and treats NaN as absent', () => {
    const over = applied(
      transitionUpgrade(SNAPSHOTS.notified, { type: 'progress', phase: 'downloading', percent: 140 }),
    );
    expect(over.progress?.percent).toBe(100);
    const under = applied(
      transitionUpgrade(SNAPSHOTS.notified, { type: 'progress', phase: 'downloading', percent: -5 }),
    );
    expect(under.progress?.percent).toBe(0);
    expect(
      summary(transitionUpgrade(downloading40, { type: 'progress', phase: 'downloading', percent: NaN })),
    ).toBe(STALE);
  });
});

describe('outcomes', () => {
  it("fails with the device's error code and message, keeping the progress reached", () => {
    const result = applied(transitionUpgrade(SNAPSHOTS.downloading, SAMPLES.device_failed));
    expect(result).toEqual({
      state: 'failed',
      progress: { phase: 'downloading', percent: 40 },
      failure: { error: 'verify_failed', message: 'md5 mismatch' },
    });
  });

  it('fails a device that reports neither a source nor the target version, naming both', () => {
    const result = applied(transitionUpgrade(SNAPSHOTS.installing, SAMPLES['version other']));
    expect(result.failure).toEqual({
      error: 'other',
      message: 'device reported version 1.5.0, neither the target 2.0.0 nor a source version',
    });
  });

  it('fails every non-target version when no source versions are known', () => {
    const event: UpgradeEvent = {
      type: 'version_reported',
      version: '1.0.0',
      targetVersion: '2.0.0',
      sourceVersions: [],
    };
    expect(summary(transitionUpgrade(SNAPSHOTS.notified, event))).toBe('failed');
  });

  it('compares versions as versions: "v2.0" proves the target "2.0.0"', () => {
    const event: UpgradeEvent = {
      type: 'version_reported',
      version: 'v2.0',
      targetVersion: '2.0.0',
      sourceVersions: [],
    };
    expect(summary(transitionUpgrade(SNAPSHOTS.installing, event))).toBe('succeeded');
  });

  it('succeeds when re-flashing the version the device already runs', () => {
    const event: UpgradeEvent = {
      type: 'version_reported',
      version: '2.0.0',
      targetVersion: '2.0.0',
      sourceVersions: ['2.0.0'],
    };
    expect(summary(transitionUpgrade(SNAPSHOTS.installing, event))).toBe('succeeded');
  });

  it('starts a retry from scratch, without the previous progress', () => {
    expect(applied(transitionUpgrade(SNAPSHOTS.timed_out, SAMPLES.retry))).toEqual({ state: 'queued' });
  });
});

describe('state groups', () => {
  it('splits every state into exactly one of pending, upgrading or terminal', () => {
    const groups = [...PENDING_UPGRADE_STATES, ...UPGRADING_STATES, ...TERMINAL_UPGRADE_STATES];
    expect(groups.sort()).toEqual([...UPGRADE_STATES].sort());
  });

  it('calls active exactly the non-terminal states, and in flight the active ones already told', () => {
    for (const state of UPGRADE_STATES) {
      expect(isActiveUpgradeState(state)).toBe(!isTerminalUpgradeState(state));
      expect(ACTIVE_UPGRADE_STATES.includes(state)).toBe(isActiveUpgradeState(state));
      expect(IN_FLIGHT_UPGRADE_STATES.includes(state)).toBe(
        isActiveUpgradeState(state) && state !== 'queued',
      );
    }
  });
});

describe('any sequence of events', () => {
  const phase = fc.constantFrom<UpgradePhase>('downloading', 'verifying', 'installing');
  const error = fc.constantFrom<UpgradeErrorCode>('download_failed', 'install_failed', 'other');
  const event: fc.Arbitrary<UpgradeEvent> = fc.oneof(
    fc.constant({ type: 'dispatched' } as const),
    fc.record({
      type: fc.constant('progress' as const),
      phase,
      percent: fc.option(fc.oneof(fc.integer({ min: -10, max: 110 }), fc.constant(Number.NaN)), {
        nil: undefined,
      }),
    }),
    fc.record({ type: fc.constant('device_failed' as const), error }),
    fc.constantFrom('1.0.0', '2.0.0', '3.0.0').map(version),
    fc.constant({ type: 'timed_out' } as const),
    fc.constant({ type: 'cancelled' } as const),
    fc.constant({ type: 'retry' } as const),
  );
  const order = (s: UpgradeSnapshot): [number, number] =>
    s.progress
      ? [['downloading', 'verifying', 'installing'].indexOf(s.progress.phase), s.progress.percent]
      : [-1, 0];

  it('never moves progress backwards, never leaves a terminal state but by retry, succeeds only on the target', () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 40 }), (events) => {
        let current: UpgradeSnapshot = { state: 'queued' };
        for (const e of events) {
          const result = transitionUpgrade(current, e);
          if (result.outcome !== 'applied') continue;
          const { next } = result;
          if (isTerminalUpgradeState(current.state)) {
            expect(e.type).toBe('retry');
            expect(['failed', 'timed_out']).toContain(current.state);
            expect(next.state).toBe('queued');
          }
          if (e.type !== 'retry') {
            const [phaseBefore, percentBefore] = order(current);
            const [phaseAfter, percentAfter] = order(next);
            expect(
              phaseAfter > phaseBefore || (phaseAfter === phaseBefore && percentAfter >= percentBefore),
            ).toBe(true);
          }
          if (next.progress) expect(next.progress.percent).toBeGreaterThanOrEqual(0);
          if (next.progress) expect(next.progress.percent).toBeLessThanOrEqual(100);
          if (next.state === 'succeeded') expect(e).toEqual(version('2.0.0'));
          current = next;
        }
      }),
      { numRuns: 500 },
    );
  });
});
