import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { openStore, type Store } from '../store/database.js';
import { POSTGRES, serviceUrl } from './services.js';

/** A way to open a fresh, empty, migrated store; `drop` removes everything it made. */
export interface StoreFactory {
  name: 'sqlite' | 'postgres';
  /** Undefined when the backing service is not configured (the suite is skipped with a printed reason). */
  available: boolean;
  open(): Promise<Store & { drop(): Promise<void> }>;
}

const sqliteFactory: StoreFactory = {
  name: 'sqlite',
  available: true,
  async open() {
    const store = await openStore({ url: ':memory:' });
    return { ...store, drop: () => store.close() };
  },
};

function postgresFactory(): StoreFactory {
  const url = serviceUrl(POSTGRES);
  return {
    name: 'postgres',
    available: url !== undefined,
    async open() {
      if (!url) throw new Error('PostgreSQL is not configured');
      // Each test gets its own schema so parallel test files never see each other's rows.
      const schema = `aloft_test_${randomBytes(6).toString('hex')}`;
      const store = await openStore({ url, schema, poolSize: 4 });
      return {
        ...store,
        async drop() {
          await sql`DROP SCHEMA ${sql.id(schema)} CASCADE`.execute(store.db);
          await store.close();
        },
      };
    },
  };
}

/** SQLite always; PostgreSQL when ALOFT_TEST_POSTGRES_URL is set (required under CI=true). */
export function storeFactories(): StoreFactory[] {
  return [sqliteFactory, postgresFactory()];
}
