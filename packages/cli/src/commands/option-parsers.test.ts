import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { CliError } from '../cli-io.js';
import { jobOptionsFrom } from './job-options.js';
import { decimal, instant, integer, list, parseId, seconds } from './option-parsers.js';

describe('option parsers', () => {
  it('reads integers within bounds and refuses the rest', () => {
    expect(integer(1, 10)('7')).toBe(7);
    for (const bad of ['0', '11', '1.5', 'x', ''])
      expect(() => integer(1, 10)(bad)).toThrow(InvalidArgumentError);
  });

  it('reads decimals within bounds', () => {
    expect(decimal(0, 100)('12.5')).toBe(12.5);
    expect(() => decimal(0, 100)('101')).toThrow(InvalidArgumentError);
  });

  it('splits comma lists and adds repeated options together', () => {
    expect(list('a, b,,c')).toEqual(['a', 'b', 'c']);
    expect(list('d', ['a'])).toEqual(['a', 'd']);
  });

  it('reads durations with units as seconds', () => {
    expect([seconds('90'), seconds('90s'), seconds('15m'), seconds('2h'), seconds('1d')]).toEqual([
      90, 90, 900, 7200, 86_400,
    ]);
    for (const bad of ['0', '5x', '-1m', 'm']) expect(() => seconds(bad)).toThrow(InvalidArgumentError);
  });

  it('reads instants as epoch ms or ISO dates', () => {
    expect(instant('1700000000000')).toBe(1_700_000_000_000);
    expect(instant('2025-06-01T02:00:00Z')).toBe(Date.UTC(2025, 5, 1, 2));
    expect(() => instant('next tuesday')).toThrow(InvalidArgumentError);
  });

  it('reads positional ids as positive integers', () => {
    expect(parseId('42', 'job id')).toBe(42);
    expect(() => parseId('0', 'job id')).toThrow(new CliError('job id must be a positive integer, got "0"'));
  });
});

describe('jobOptionsFrom', () => {
  it('sends no strategy when no strategy flag was given, so the server’s defaults apply', () => {
    expect(jobOptionsFrom({ name: 'n' })).toEqual({ name: 'n' });
  });

  it('maps the flags to the API’s strategy', () => {
    expect(
      jobOptionsFrom({
        supersede: true,
        maxPerMinute: 100,
        deviceTimeout: 600,
        retries: 2,
        abortFailurePercent: 20,
        abortMinFinished: 50,
        groups: [{ percent: 10, successThreshold: 95 }],
      }),
    ).toEqual({
      supersede: true,
      strategy: {
        maxPerMinute: 100,
        deviceTimeoutSeconds: 600,
        retries: { count: 2 },
        abort: { failurePercent: 20, minFinished: 50 },
        groups: [{ percent: 10, successThreshold: 95 }],
      },
    });
  });

  it('refuses half an abort rule', () => {
    expect(() => jobOptionsFrom({ abortFailurePercent: 20 })).toThrow(CliError);
  });
});
