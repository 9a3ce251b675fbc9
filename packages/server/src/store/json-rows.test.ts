import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type StoreFactory, storeFactories } from '../testing/test-stores.js';
import type { Store } from './database.js';
import { jsonRows } from './json-rows.js';

const COLUMNS = { id: 'bigint', n: 'integer', label: 'text' } as const;
type Row = { id: number; n: number | null; label: string | null };

describe.each(storeFactories())('JSON rows on $name', (factory: StoreFactory) => {
  let store: Store & { drop(): Promise<void> };

  beforeEach(async () => {
    if (factory.available) store = await factory.open();
  });
  afterEach(async () => {
    if (factory.available) await store.drop();
  });

  const select = async (rows: Row[]) => {
    const relation = jsonRows(store.dialect, rows, COLUMNS, 'r');
    const result = await sql<Row>`SELECT r.id, r.n, r.label FROM ${relation}`.execute(store.db);
    return result.rows.map((row) => ({ ...row, id: Number(row.id) }));
  };

  it.skipIf(!factory.available)('reads back every row with its SQL types, nulls included', async () => {
    const rows: Row[] = [
      { id: 1_700_000_000_123, n: 7, label: 'it’s "quoted" \\ and ; DROP TABLE devices' },
      { id: 2, n: null, label: null },
      { id: 3, n: -1, label: '固件 v1.2' },
    ];
    expect(await select(rows)).toEqual(rows);
  });

  it.skipIf(!factory.available)(
    'reads a missing property as NULL and an empty batch as no rows',
    async () => {
      const partial = [{ id: 5 }] as unknown as Row[];
      expect(await select(partial)).toEqual([{ id: 5, n: null, label: null }]);
      expect(await select([])).toEqual([]);
    },
  );

  it.skipIf(!factory.available)(
    'maps properties to columns by name, whatever their order, and ignores the others',
    async () => {
      const shuffled = [{ label: 'x', extra: 'ignored', n: 2, id: 9 }] as unknown as Row[];
      expect(await select(shuffled)).toEqual([{ id: 9, n: 2, label: 'x' }]);
    },
  );

  it.skipIf(!factory.available)('drives an UPDATE … FROM that changes only the rows it names', async () => {
    const product = (key: string, name: string) => ({
      key,
      name,
      dialect: 'aliyun',
      signing_public_key: null,
      signing_private_key: null,
      created_at: 1,
    });
    await store.db
      .insertInto('products')
      .values([product('p1', 'P'), product('p2', 'Q')])
      .execute();
    const renames = jsonRows(
      store.dialect,
      [{ key: 'p2', name: 'Renamed' }],
      { key: 'text', name: 'text' },
      'v',
    );
    await sql`UPDATE products SET name = v.name FROM ${renames} WHERE products.key = v.key`.execute(store.db);
    const names = await store.db.selectFrom('products').select(['key', 'name']).orderBy('key').execute();
    expect(names).toEqual([
      { key: 'p1', name: 'P' },
      { key: 'p2', name: 'Renamed' },
    ]);
  });

  it('refuses a column name that is not a plain identifier', () => {
    expect(() => jsonRows('sqlite', [], { 'id; --': 'text' }, 'v')).toThrow(/plain SQL identifier/);
  });
});
