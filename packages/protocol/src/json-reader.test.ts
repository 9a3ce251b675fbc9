import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_PAYLOAD_BYTES } from './codec.js';
import { parseJsonPayload, parseJsonText, readId, readInteger, readNumber, readText } from './json-reader.js';
import { bytes } from './testing/wire.js';
import { readPercent } from './wire-values.js';

describe('the JSON reader', () => {
  it("tolerates LinkSDK's trailing comma but not inside strings", () => {
    expect(parseJsonText('{"a":{"b":1,},"c":[1,2,],}')).toEqual({
      ok: true,
      value: { a: { b: 1 }, c: [1, 2] },
    });
    expect(parseJsonText('{"a":",}"}')).toEqual({ ok: true, value: { a: ',}' } });
    expect(parseJsonText('{"a":"\\",}",}')).toEqual({ ok: true, value: { a: '",}' } });
    expect(parseJsonText('{,}')).toMatchObject({ ok: false, code: 'malformed_json' });
    expect(parseJsonText('[1,,]')).toMatchObject({ ok: false, code: 'malformed_json' });
  });

  it('tolerates a BOM, trailing whitespace and the NUL terminator of C strings', () => {
    expect(parseJsonPayload(bytes('\uFEFF{"a":1}\r\n\0\0'))).toEqual({ ok: true, value: { a: 1 } });
  });

  it('refuses oversized payloads, invalid UTF-8 and garbage with typed errors', () => {
    expect(parseJsonPayload(new Uint8Array(MAX_PAYLOAD_BYTES + 1))).toMatchObject({ code: 'too_large' });
    expect(parseJsonPayload(new Uint8Array([0xc3, 0x28]))).toMatchObject({ code: 'malformed_json' });
    expect(parseJsonPayload(bytes('{"a":'))).toMatchObject({ code: 'malformed_json' });
    expect(parseJsonPayload(bytes(''))).toMatchObject({ code: 'malformed_json' });
  });

  it('refuses text that cannot be stored: a NUL or an unpaired surrogate, in any string or key', () => {
    const refused = { ok: false, code: 'invalid_payload', reason: expect.stringMatching(/NUL.*surrogate/) };
    for (const json of [
      '{"version":"1.0\\u0000"}',
      '{"version":"x\\ud800y"}',
      '{"version":"\\udc00"}',
      '{"params":{"a":["ok","\\ud83d"]}}',
      '{"\\u0000key":1}',
      '{"version":"x\\ud800",}',
    ]) {
      expect(parseJsonText(json), json).toEqual(refused);
    }
    // Escapes that are fine: a surrogate pair, other control characters, a literal backslash-u.
    expect(parseJsonText('{"v":"\\ud83d\\ude80 \\u0001 \\\\u0000"}')).toEqual({
      ok: true,
      value: { v: '\u{1F680} \u0001 \\u0000' },
    });
  });

  it('reads numbers given as numbers or as numeric strings, and nothing else', () => {
    expect(readNumber('-3')).toBe(-3);
    expect(readNumber(' 10 ')).toBe(10);
    expect(readNumber(42.5)).toBe(42.5);
    for (const bad of ['', ' ', 'NaN', 'Infinity', '0x10', '1,000', 'ten', null, true, [], {}]) {
      expect(readNumber(bad)).toBeUndefined();
    }
    expect(readInteger('708482')).toBe(708482);
    expect(readInteger('1.5')).toBeUndefined();
    expect(readInteger(2 ** 60)).toBeUndefined();
  });

  it('reads ids as strings or numbers, and versions given as numbers as text', () => {
    expect(readId('123')).toBe('123');
    expect(readId(0)).toBe(0);
    expect(readId(null)).toBeUndefined();
    expect(readText(1.1)).toBe('1.1');
  });

  it('makes every percent an integer 0..100, or refuses it', () => {
    fc.assert(
      fc.property(fc.oneof(fc.double(), fc.string(), fc.integer().map(String)), (value) => {
        const percent = readPercent(value);
        if (percent !== undefined)
          expect(Number.isInteger(percent) && percent >= 0 && percent <= 100).toBe(true);
      }),
    );
    expect(readPercent(Number.NaN)).toBeUndefined();
    expect(readPercent('-1')).toBeUndefined();
    expect(readPercent('101')).toBe(100);
    expect(readPercent(99.9)).toBe(99);
  });

  it('never reaches the prototype through member names', () => {
    const parsed = parseJsonText('{"__proto__":{"polluted":1}}');
    expect(parsed.ok).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
