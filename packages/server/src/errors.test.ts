import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  BlobKeyInvalidError,
  BlobNotFoundError,
  BlobRangeInvalidError,
  FirmwareDigestMismatchError,
  FirmwareTooLargeError,
  FirmwareUploadIncompleteError,
} from './blobs/blob-errors.js';
import { AloftError, catalogue } from './errors.js';
import { renderErrorsDoc } from './errors-doc.js';

describe('error catalogue', () => {
  it('matches docs/errors.md (run `npm run docs:errors` after changing it)', () => {
    const committed = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
    expect(committed).toBe(renderErrorsDoc());
  });

  it('has unique codes', () => {
    const codes = Object.values(catalogue).map((e) => e.code);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it('gives the blob store’s errors the catalogue’s codes and statuses', () => {
    const byCode = new Map<string, number>(Object.values(catalogue).map((e) => [e.code, e.status]));
    for (const error of [
      new FirmwareDigestMismatchError('md5', 'a', 'b'),
      new FirmwareTooLargeError(1),
      new FirmwareUploadIncompleteError(new Error('x')),
      new BlobNotFoundError('k'),
      new BlobKeyInvalidError('../k'),
      new BlobRangeInvalidError(5, 1),
    ]) {
      expect(byCode.get(error.code), error.code).toBe(error.statusCode);
    }
  });

  it('fills message templates in order', () => {
    const error = new AloftError('FIRMWARE_IN_USE', [7, '1, 2']);
    expect(error.message).toBe('Firmware 7 is used by unfinished job(s) 1, 2');
    expect(error).toMatchObject({ code: 'ALOFT_FIRMWARE_IN_USE', status: 409 });
  });
});
