import type { Kysely } from 'kysely';

/**
 * Server instances sharing the database, each heartbeating (store/instance-store.ts). Instances split between them
 * the device topics the broker delivers to every instance (transport/mqtt/instance-membership.ts). A handful of rows:
 * no index beyond the key.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('server_instances')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('host', 'text', (c) => c.notNull())
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    .addColumn('heartbeat_at', 'bigint', (c) => c.notNull())
    .execute();
}
