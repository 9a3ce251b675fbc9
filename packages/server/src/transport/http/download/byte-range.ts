import type { ByteRange } from '../../../blobs/blob-store.js';

/** How to answer a request given its `Range` / `If-Range` headers (RFC 9110 §14). */
export type RangeDecision =
  /** 200 with the whole file: no `Range`, or one we ignore (malformed, another unit, several ranges, stale `If-Range`). */
  | { kind: 'whole' }
  /** 206 with `Content-Range: bytes start-end/size`. */
  | { kind: 'partial'; range: ByteRange }
  /** 416 with `Content-Range: bytes *\/size`. */
  | { kind: 'unsatisfiable' };

const WHOLE: RangeDecision = { kind: 'whole' };
const SINGLE_RANGE = /^bytes=[ \t]*(\d*)[ \t]*-[ \t]*(\d*)[ \t]*$/i;

/**
 * Decides what part of a `size`-byte file to send.
 *
 * - `bytes=N-M` with M past the end is clamped to the last byte: Tencent devices ask for `bytes=N-<size>`.
 * - `bytes=-N` is the last N bytes (the whole file if N ≥ size).
 * - 416 only when the first byte asked for is past the end (or the suffix is `-0`).
 * - Several ranges (`bytes=0-1,5-9`) get the whole file as a 200: RFC 9110 lets a server ignore `Range`,
 *   no OTA client sends multiple ranges, and it spares us multipart/byteranges.
 * - `If-Range` other than our exact (strong) ETag, including any date, means the client's partial copy may
 *   be of another file: send the whole file.
 */
export function decideRange(
  rangeHeader: string | undefined,
  ifRangeHeader: string | undefined,
  size: number,
  etag: string,
): RangeDecision {
  if (rangeHeader === undefined) return WHOLE;
  if (ifRangeHeader !== undefined && ifRangeHeader.trim() !== etag) return WHOLE;
  const match = SINGLE_RANGE.exec(rangeHeader.trim());
  if (!match) return WHOLE;
  const [, first = '', last = ''] = match;
  if (first === '') {
    if (last === '') return WHOLE;
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', range: { start: Math.max(0, size - suffix), end: size - 1 } };
  }
  const start = Number(first);
  const end = last === '' ? Number.POSITIVE_INFINITY : Number(last);
  // `bytes=9-5` is not a valid range-spec, so the whole header is ignored rather than refused.
  if (end < start) return WHOLE;
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'partial', range: { start, end: Math.min(end, size - 1) } };
}
