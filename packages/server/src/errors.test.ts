import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AloftError, catalogue } from './errors.js';

/** docs/errors.md lists every catalogue entry as a table row: | `CODE` | status | … */
function documentedCodes(): Map<string, number> {
  const text = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
  const rows = [...text.matchAll(/^\| `(ALOFT_[A-Z_]+)` \| (\d{3}) \|/gm)];
  return new Map(rows.map((m) => [m[1]!, Number(m[2])]));
}

describe('error catalogue', () => {
  it('is documented entry for entry, with the same HTTP status', () => {
    const documented = documentedCodes();
    const entries = Object.values(catalogue).map((e) => [e.code, e.status] as const);
    expect(new Map(entries)).toEqual(documented);
  });

  it('has unique codes', () => {
    const codes = Object.values(catalogue).map((e) => e.code);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it('fills message templates in order', () => {
    const error = new AloftError('FIRMWARE_IN_USE', [7, '1, 2']);
    expect(error.message).toBe('Firmware 7 is used by unfinished job(s) 1, 2');
    expect(error).toMatchObject({ code: 'ALOFT_FIRMWARE_IN_USE', status: 409 });
  });
});
