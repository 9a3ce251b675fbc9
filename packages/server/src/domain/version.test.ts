import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareVersions, sameVersion } from './version.js';

describe('compareVersions', () => {
  it.each([
    ['1.0.10', '1.0.9'],
    ['2.0', '1.99.99'],
    ['1.0.0', '1.0.0-beta'],
    ['1.0.0-beta', '1.0.0-alpha'],
    ['1.0.0-rc.1', '1.0.0-beta.9'],
    ['1.0.0-beta.10', '1.0.0-beta.2'],
    ['1.0.0-beta.1', '1.0.0-beta'],
    ['1.0.0.1', '1.0.0'],
    ['1.0.0', '1.0.beta'],
    ['V3', 'v2.9'],
    ['1.0+b10', '1.0+b2'],
    ['1.0+b2', '1.0'],
    ['20240105123456789012', '20240105123456789011'],
    ['1.0', ''],
  ])('orders %s after %s', (newer, older) => {
    expect(compareVersions(newer, older)).toBe(1);
    expect(compareVersions(older, newer)).toBe(-1);
  });

  it.each([
    ['v2.0', '2.0'],
    ['1.0', '1.0.0'],
    [' 1.2.3 ', '1.2.3'],
    ['1.01', '1.1'],
    ['1.0.0-RC1', '1.0.0-rc.1'],
    ['1.0_beta', '1.0-beta'],
  ])('holds %j and %j to be the same version', (a, b) => {
    expect(compareVersions(a, b)).toBe(0);
    expect(sameVersion(a, b)).toBe(true);
  });

  it('does not confuse different builds or different pre-releases', () => {
    expect(sameVersion('1.0.0+build5', '1.0.0+build6')).toBe(false);
    expect(sameVersion('1.0.0-beta', '1.0.0')).toBe(false);
  });

  it('sorts a distribution of reported versions', () => {
    const reported = ['1.10.0', 'v1.2.0', '1.2.0-rc.1', 'garbage', '1.9.3', '0.9', '1.2.0-beta'];
    expect([...reported].sort(compareVersions)).toEqual([
      'garbage',
      '0.9',
      '1.2.0-beta',
      '1.2.0-rc.1',
      'v1.2.0',
      '1.9.3',
      '1.10.0',
    ]);
  });

  it('is a consistent total order on any strings', () => {
    const versionish = fc.stringMatching(/^v?[0-9a-c.\-+]{0,8}$/);
    fc.assert(
      fc.property(versionish, versionish, versionish, (a, b, c) => {
        expect(compareVersions(a, a)).toBe(0);
        expect(compareVersions(a, b) + compareVersions(b, a)).toBe(0);
        if (compareVersions(a, b) <= 0 && compareVersions(b, c) <= 0) {
          expect(compareVersions(a, c)).toBeLessThanOrEqual(0);
        }
        if (sameVersion(a, b)) expect(compareVersions(a, c)).toBe(compareVersions(b, c));
      }),
      { numRuns: 1000 },
    );
  });
});
