import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from 'kysely';
import * as initial from './migrations/001-initial.js';
import * as jobs from './migrations/002-jobs.js';
import * as jobUpgradeCounts from './migrations/003-job-upgrade-counts.js';
import * as serverInstances from './migrations/004-server-instances.js';
import * as upgradeTabOrder from './migrations/005-upgrade-tab-order.js';
import { type MigrationContext, migrationContext } from './migrations/migration-context.js';

type MigrationModule = { up(db: Kysely<unknown>, context: MigrationContext): Promise<void> };

/** Every migration, in order. Append; never edit one that has shipped. */
const migrations: Record<string, MigrationModule> = {
  '001-initial': initial,
  '002-jobs': jobs,
  '003-job-upgrade-counts': jobUpgradeCounts,
  '004-server-instances': serverInstances,
  '005-upgrade-tab-order': upgradeTabOrder,
};

class StaticMigrationProvider implements MigrationProvider {
  constructor(private readonly context: MigrationContext) {}

  async getMigrations(): Promise<Record<string, Migration>> {
    return Object.fromEntries(
      Object.entries(migrations).map(([name, module]) => [
        name,
        { up: (db: Kysely<unknown>) => module.up(db, this.context) },
      ]),
    );
  }
}

/** Brings the schema to the latest migration; throws with the failing migration's name. */
export async function migrateToLatest<T>(db: Kysely<T>, dialect: 'sqlite' | 'postgres'): Promise<void> {
  // Kysely looks for its own tables in every schema unless told which one: name ours, or another schema's tables
  // (another deployment or test sharing the database) would be taken for ours.
  const migrationTableSchema =
    dialect === 'postgres'
      ? (await sql<{ schema: string }>`SELECT current_schema() AS schema`.execute(db)).rows[0]?.schema
      : undefined;
  const migrator = new Migrator({
    db: db as unknown as Kysely<unknown>,
    provider: new StaticMigrationProvider(migrationContext(dialect)),
    ...(migrationTableSchema ? { migrationTableSchema } : {}),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`Database migration ${failed} failed: ${(error as Error).message ?? String(error)}`);
  }
}
