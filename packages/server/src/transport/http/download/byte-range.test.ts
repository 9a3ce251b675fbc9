import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decideRange } from './byte-range.js';

const etag = '"abc"';
const decide = (range: string | undefined, size = 1000, ifRange?: string) =>
  decideRange(range, ifRange, size, etag);

describe('decideRange', () => {
  it.each([
    ['bytes=0-499', 0, 499],
    ['bytes=500-', 500, 999],
    ['bytes=500-1000', 500, 999],
    ['bytes=500-99999999999999999999', 500, 999],
    ['bytes=999-999', 999, 999],
    ['bytes=-1', 999, 999],
    ['bytes=-5000', 0, 999],
    ['BYTES= 10 - 20 ', 10, 20],
  ])('serves %s as %i-%i', (header, start, end) => {
    expect(decide(header)).toEqual({ kind: 'partial', range: { start, end } });
  });

  it.each(['bytes=1000-', 'bytes=1000-2000', 'bytes=99999999999999999999-', 'bytes=-0'])(
    'refuses %s as unsatisfiable',
    (header) => {
      expect(decide(header)).toEqual({ kind: 'unsatisfiable' });
    },
  );

  it.each([undefined, 'bytes=9-5', 'bytes=-', 'bytes=a-b', 'items=0-5', 'bytes=0-1,5-9', 'bytes 0-5'])(
    'serves the whole file for %s',
    (header) => {
      expect(decide(header)).toEqual({ kind: 'whole' });
    },
  );

  it('refuses every range of an empty file', () => {
    expect(decide('bytes=0-', 0)).toEqual({ kind: 'unsatisfiable' });
    expect(decide('bytes=-10', 0)).toEqual({ kind: 'unsatisfiable' });
  });

  it('honours the range only under a matching If-Range', () => {
    expect(decide('bytes=0-9', 1000, '"abc"')).toEqual({ kind: 'partial', range: { start: 0, end: 9 } });
    expect(decide('bytes=0-9', 1000, '"other"')).toEqual({ kind: 'whole' });
    expect(decide('bytes=0-9', 1000, 'W/"abc"')).toEqual({ kind: 'whole' });
    expect(decide('bytes=0-9', 1000, 'Wed, 21 Oct 2015 07:28:00 GMT')).toEqual({ kind: 'whole' });
  });

  it('always yields a range inside the file when it yields one', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000 }),
        fc.option(fc.nat(20_000), { nil: undefined }),
        fc.option(fc.nat(20_000), { nil: undefined }),
        (size, first, last) => {
          const decision = decide(`bytes=${first ?? ''}-${last ?? ''}`, size);
          if (decision.kind !== 'partial') return;
          const { start, end } = decision.range;
          expect(0 <= start && start <= end && end < size).toBe(true);
        },
      ),
    );
  });
});
