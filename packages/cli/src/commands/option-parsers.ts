import { InvalidArgumentError } from 'commander';
import { CliError } from '../cli-io.js';

/** Commander parser for an integer option within bounds. */
export function integer(min = 0, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}.`);
    }
    return n;
  };
}

/** Commander parser for a number (a percentage, say) within bounds. */
export function decimal(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected a number from ${min} to ${max}.`);
    }
    return n;
  };
}

/** Commander parser for `a,b,c`; repeating the option adds to the list. */
export function list(value: string, previous: string[] = []): string[] {
  return [...previous, ...splitList(value)];
}

/** Splits `a, b,,c` into `['a', 'b', 'c']`. */
export function splitList(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

/** Commander parser for a point in time: epoch milliseconds, or an ISO 8601 date (`2025-06-01T02:00:00Z`). */
export function instant(value: string): number {
  if (/^\d+$/.test(value)) return Number(value);
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new InvalidArgumentError('expected epoch milliseconds or an ISO 8601 date.');
  return ms;
}

const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** Commander parser for a duration in whole seconds: `90`, `90s`, `15m`, `2h`, `1d`. */
export function seconds(value: string): number {
  const match = /^(\d+)\s*([smhd]?)$/.exec(value.trim());
  if (!match) throw new InvalidArgumentError('expected a duration such as 90, 90s, 15m or 2h.');
  const total = Number(match[1]) * (DURATION_UNITS[match[2] || 's'] ?? 1);
  if (total < 1) throw new InvalidArgumentError('expected a duration of at least 1s.');
  return total;
}

/** A positional id (job, firmware, upgrade): a positive integer. */
export function parseId(value: string, what: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    throw new CliError(`${what} must be a positive integer, got "${value}"`);
  }
  return Number(value);
}
