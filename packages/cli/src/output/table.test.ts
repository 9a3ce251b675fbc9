import { describe, expect, it } from 'vitest';
import { displayWidth, formatDetails, formatTable } from './table.js';

interface Row {
  name: string;
  count: number;
  online: boolean;
  note?: string | null;
}

const columns = [
  { header: 'name', value: (r: Row) => r.name },
  { header: 'count', value: (r: Row) => r.count, align: 'right' as const },
  { header: 'online', value: (r: Row) => r.online },
  { header: 'note', value: (r: Row) => r.note },
];

describe('formatTable', () => {
  it('aligns columns under upper-case headers, numbers to the right, with no trailing spaces', () => {
    const text = formatTable(columns, [
      { name: 'lamp-1', count: 5, online: true, note: 'ok' },
      { name: 'lamp-200', count: 1234, online: false },
    ]);
    expect(text).toBe(
      ['NAME      COUNT  ONLINE  NOTE', 'lamp-1        5  yes     ok', 'lamp-200   1234  no      -'].join(
        '\n',
      ),
    );
  });

  it('prints only the header for no rows', () => {
    expect(formatTable(columns, [])).toBe('NAME  COUNT  ONLINE  NOTE');
  });

  it('keeps a multi-line cell on one line and shows empty values as -', () => {
    const text = formatTable(columns, [{ name: '', count: 0, online: true, note: 'flash\nfailed\tbadly' }]);
    expect(text.split('\n')).toEqual([
      'NAME  COUNT  ONLINE  NOTE',
      '-         0  yes     flash failed badly',
    ]);
  });

  it('counts wide characters as two columns so CJK names stay aligned', () => {
    expect(displayWidth('灯-1')).toBe(4);
    const text = formatTable(columns.slice(0, 2), [
      { name: '灯-1', count: 1, online: true },
      { name: 'ab', count: 22, online: true },
    ]);
    expect(text.split('\n')).toEqual(['NAME  COUNT', '灯-1      1', 'ab       22']);
  });
});

describe('formatDetails', () => {
  it('aligns values after their labels and leaves out undefined ones', () => {
    expect(
      formatDetails([
        ['id', 3],
        ['verify state', 'verified'],
        ['skipped', undefined],
        ['signed', false],
        ['md5', null],
      ]),
    ).toBe(['id:           3', 'verify state: verified', 'signed:       no', 'md5:          -'].join('\n'));
  });
});
