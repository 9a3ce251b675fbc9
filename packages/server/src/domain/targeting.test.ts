import { describe, expect, it } from 'vitest';
import type { StagedGroup } from './strategy.js';
import {
  decideTarget,
  groupOf,
  inGrayRelease,
  type TargetCandidate,
  type TargetSpec,
  validateTargetSpec,
} from './targeting.js';

const device: TargetCandidate = { id: 'd-1', name: 'meter-1', tags: ['eu', 'beta'], currentVersion: '1.0.0' };
const decide = (spec: TargetSpec, candidate = device) => decideTarget('job-1', candidate, spec, '2.0.0');
const ids = (n: number, digits = 5) =>
  Array.from({ length: n }, (_, i) => `dev-${String(i).padStart(digits, '0')}`);
const GROUPS: StagedGroup[] = [
  { percent: 10, successThreshold: 90 },
  { percent: 50, successThreshold: 90 },
  { percent: 100, successThreshold: 0 },
];

describe('decideTarget', () => {
  it('includes every device when the spec has no filter', () => {
    expect(decide({})).toEqual({ decision: 'include' });
  });

  it('skips a matching device already on the target version', () => {
    expect(decide({}, { ...device, currentVersion: 'v2.0' })).toEqual({
      decision: 'skip',
      reason: 'already_on_target',
    });
  });

  it('includes a device that never reported a version unless source versions are required', () => {
    const silent = { ...device, currentVersion: undefined };
    expect(decide({}, silent)).toEqual({ decision: 'include' });
    expect(decide({ sourceVersions: ['1.0.0'] }, silent)).toEqual({
      decision: 'exclude',
      reason: 'other_version',
    });
  });

  it.each([
    [{ deviceNames: ['meter-1', 'meter-2'] }, { decision: 'include' }],
    [{ deviceNames: ['meter-2'] }, { decision: 'exclude', reason: 'not_listed' }],
    [{ sourceVersions: ['0.9', '1.0'] }, { decision: 'include' }],
    [{ sourceVersions: ['0.9'] }, { decision: 'exclude', reason: 'other_version' }],
    [{ tags: ['us', 'beta'] }, { decision: 'include' }],
    [{ tags: ['us'] }, { decision: 'exclude', reason: 'untagged' }],
    [{ percent: 100 }, { decision: 'include' }],
    [
      { deviceNames: ['meter-1'], tags: ['us'] },
      { decision: 'exclude', reason: 'untagged' },
    ],
  ] satisfies [TargetSpec, unknown][])('decides %j as %j', (spec, expected) => {
    expect(decide(spec)).toEqual(expected);
  });
});

describe('gray release', () => {
  it('selects the same devices every time (pinned: changing the hash reshuffles running jobs)', () => {
    const selected = ids(40, 3).filter((id) => inGrayRelease('job-1', id, 25));
    expect(selected).toEqual([
      'dev-012',
      'dev-017',
      'dev-018',
      'dev-027',
      'dev-028',
      'dev-029',
      'dev-030',
      'dev-031',
      'dev-035',
      'dev-039',
    ]);
  });

  it('selects close to the asked share of a fleet', () => {
    const selected = ids(20_000).filter((id) => inGrayRelease('job-1', id, 10)).length;
    expect(selected / 20_000).toBeGreaterThan(0.09);
    expect(selected / 20_000).toBeLessThan(0.11);
  });

  it('only adds devices when the percent grows', () => {
    for (const id of ids(2000)) {
      if (inGrayRelease('job-1', id, 5)) expect(inGrayRelease('job-1', id, 20)).toBe(true);
    }
  });

  it('selects different devices for different jobs', () => {
    const pick = (job: string) => new Set(ids(5000).filter((id) => inGrayRelease(job, id, 10)));
    const a = pick('job-1');
    const overlap = [...pick('job-2')].filter((id) => a.has(id)).length;
    // Independent 10% samples share about 1% of the fleet (50 devices), not 10%.
    expect(overlap).toBeLessThan(100);
  });

  it('treats numeric and string ids alike', () => {
    expect(inGrayRelease(7, 12, 50)).toBe(inGrayRelease('7', '12', 50));
  });
});

describe('groupOf', () => {
  it('assigns groups in the proportions of their cumulative percents', () => {
    const sizes = [0, 0, 0];
    for (const id of ids(20_000)) sizes[groupOf('job-1', id, GROUPS)]! += 1;
    expect(sizes.map((n) => Math.round((n / 20_000) * 100))).toEqual([10, 40, 50]);
  });

  it('is deterministic (pinned)', () => {
    const groups = ids(12, 3).map((id) => groupOf('job-1', id, GROUPS));
    expect(groups).toEqual([2, 2, 1, 2, 0, 1, 0, 2, 1, 1, 0, 1]);
  });

  it('spreads a gray release over every group rather than packing it into the first ones', () => {
    const sizes = [0, 0, 0];
    for (const id of ids(20_000).filter((id) => inGrayRelease('job-1', id, 20))) {
      sizes[groupOf('job-1', id, GROUPS)]! += 1;
    }
    expect(sizes.every((n) => n > 0)).toBe(true);
    expect(sizes[2]! / (sizes[0]! + sizes[1]! + sizes[2]!)).toBeGreaterThan(0.45);
  });

  it('puts everything in group 0 when there are no stages', () => {
    expect(groupOf('job-1', 'd', [])).toBe(0);
  });
});

describe('validateTargetSpec', () => {
  it('accepts a spec with no filters and one with all of them', () => {
    expect(validateTargetSpec({}).ok).toBe(true);
    expect(
      validateTargetSpec({ deviceNames: ['a'], sourceVersions: ['1.0'], tags: ['eu'], percent: 0.5 }).ok,
    ).toBe(true);
  });

  it('rejects filters that would silently select nobody', () => {
    expect(validateTargetSpec({ deviceNames: [], tags: [' '], percent: 0 })).toEqual({
      ok: false,
      errors: [
        'deviceNames must not be empty (leave it out to not filter)',
        'tags must contain only non-blank strings',
        'percent must be more than 0 and at most 100, got 0',
      ],
    });
    expect(validateTargetSpec({ percent: 101 }).ok).toBe(false);
    expect(validateTargetSpec({ percent: Number.NaN }).ok).toBe(false);
  });
});
