import { type Kysely, sql } from 'kysely';
import type { MigrationContext } from './migration-context.js';

export async function up(db: Kysely<unknown>, { idColumn }: MigrationContext): Promise<void> {
  await idColumn(db.schema.createTable('jobs'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('product_key', 'text', (c) => c.notNull().references('products.key'))
    // No foreign key: a package may be deleted once no unfinished job uses it; finished jobs keep their history.
    .addColumn('firmware_id', 'bigint', (c) => c.notNull())
    .addColumn('module', 'text', (c) => c.notNull())
    .addColumn('target_version', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('targets', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('source_versions', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('strategy', 'text', (c) => c.notNull())
    .addColumn('dynamic', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('allow_unverified', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('supersede', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('parent_job_id', 'bigint')
    .addColumn('current_group', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('selected', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('skipped', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('conflicts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('reason', 'text')
    .addColumn('enrolled_until', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('started_at', 'bigint')
    .addColumn('finished_at', 'bigint')
    .execute();
  await db.schema.createIndex('jobs_state').on('jobs').columns(['state']).execute();
  await db.schema.createIndex('jobs_firmware').on('jobs').columns(['firmware_id', 'state']).execute();

  await idColumn(db.schema.createTable('upgrades'))
    .addColumn('job_id', 'bigint', (c) => c.notNull().references('jobs.id'))
    .addColumn('device_id', 'bigint', (c) => c.notNull().references('devices.id').onDelete('cascade'))
    .addColumn('module', 'text', (c) => c.notNull())
    .addColumn('target_version', 'text', (c) => c.notNull())
    .addColumn('source_version', 'text')
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('phase', 'text')
    .addColumn('percent', 'integer')
    .addColumn('error_code', 'text')
    .addColumn('error_message', 'text')
    .addColumn('attempt', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('group_index', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('active', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('queued_at', 'bigint', (c) => c.notNull())
    .addColumn('notified_at', 'bigint')
    .addColumn('last_activity_at', 'bigint', (c) => c.notNull())
    .addColumn('finished_at', 'bigint')
    .addColumn('retry_at', 'bigint')
    .execute();
  // finished_at before group_index: the job detail's "succeeded in the last 5 minutes" is then a range of this index
  // (31–40 ms at 100,000 devices without it, bench/api.ts); queued and in-flight rows have no finished_at, so the
  // dispatch and group queries find their (job, state) ranges as before.
  await db.schema
    .createIndex('upgrades_job_state')
    .on('upgrades')
    .columns(['job_id', 'state', 'finished_at', 'group_index'])
    .execute();
  await db.schema
    .createIndex('upgrades_job_device')
    .on('upgrades')
    .columns(['job_id', 'device_id'])
    .execute();
  await db.schema
    .createIndex('upgrades_state_activity')
    .on('upgrades')
    .columns(['state', 'last_activity_at'])
    .execute();
  // A device is in at most one active upgrade per module: the database enforces it, so two instances cannot race past it.
  await sql`CREATE UNIQUE INDEX upgrades_one_active ON upgrades (device_id, module) WHERE active = 1`.execute(
    db,
  );
  await db.schema.createIndex('upgrades_retry').on('upgrades').columns(['retry_at']).execute();

  await idColumn(db.schema.createTable('upgrade_events'))
    .addColumn('upgrade_id', 'bigint', (c) => c.notNull())
    .addColumn('job_id', 'bigint', (c) => c.notNull())
    .addColumn('device_id', 'bigint', (c) => c.notNull())
    .addColumn('from_state', 'text')
    .addColumn('to_state', 'text', (c) => c.notNull())
    .addColumn('phase', 'text')
    .addColumn('percent', 'integer')
    .addColumn('error_code', 'text')
    .addColumn('message', 'text')
    .addColumn('at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('upgrade_events_upgrade')
    .on('upgrade_events')
    .columns(['upgrade_id', 'id'])
    .execute();
  await db.schema.createIndex('upgrade_events_job').on('upgrade_events').columns(['job_id', 'id']).execute();

  await idColumn(db.schema.createTable('webhooks'))
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('secret', 'text', (c) => c.notNull())
    .addColumn('job_id', 'bigint')
    .addColumn('events', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('cursor', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await idColumn(db.schema.createTable('webhook_deliveries'))
    .addColumn('webhook_id', 'bigint', (c) => c.notNull().references('webhooks.id').onDelete('cascade'))
    .addColumn('event_id', 'bigint', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
    .addColumn('last_status', 'integer')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('delivered_at', 'bigint')
    .execute();
  await db.schema
    .createIndex('webhook_deliveries_due')
    .on('webhook_deliveries')
    .columns(['state', 'next_attempt_at'])
    .execute();
  await db.schema
    .createIndex('webhook_deliveries_webhook')
    .on('webhook_deliveries')
    .columns(['webhook_id', 'id'])
    .execute();
}
