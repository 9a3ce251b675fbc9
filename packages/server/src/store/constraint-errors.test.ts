import { describe, expect, it } from 'vitest';
import { isDataError } from './constraint-errors.js';

describe('isDataError', () => {
  it('tells a refusal of the data from a failure of the database as a whole', () => {
    for (const code of [
      '23503',
      '23505',
      '22001',
      '22P02',
      'SQLITE_CONSTRAINT_FOREIGNKEY',
      'SQLITE_MISMATCH',
    ])
      expect(isDataError({ code }), code).toBe(true);
    for (const code of ['ECONNREFUSED', '57P01', '08006', '40P01', '53300', 'SQLITE_BUSY', 'SQLITE_IOERR'])
      expect(isDataError({ code }), code).toBe(false);
    for (const error of [undefined, null, new Error('no code'), { code: 23505 }])
      expect(isDataError(error)).toBe(false);
  });
});
