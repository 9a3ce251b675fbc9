import type { CreateTableBuilder } from 'kysely';

/** What differs between SQLite and PostgreSQL in DDL, handed to every migration. */
export interface MigrationContext {
  dialect: 'sqlite' | 'postgres';
  /** Adds an auto-incrementing integer primary key `id` (SQLite rowid alias / PostgreSQL bigint identity). */
  idColumn<T extends string>(builder: CreateTableBuilder<T, never>): CreateTableBuilder<T, 'id'>;
}

export function migrationContext(dialect: 'sqlite' | 'postgres'): MigrationContext {
  return {
    dialect,
    idColumn: (builder) =>
      dialect === 'postgres'
        ? builder.addColumn('id', 'bigint', (c) => c.primaryKey().generatedByDefaultAsIdentity())
        : builder.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement()),
  };
}
