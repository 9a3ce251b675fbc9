import type { Kysely } from 'kysely';
import type { MigrationContext } from './migration-context.js';

export async function up(db: Kysely<unknown>, { idColumn }: MigrationContext): Promise<void> {
  await db.schema
    .createTable('settings')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('products')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('dialect', 'text', (c) => c.notNull())
    .addColumn('signing_public_key', 'text')
    .addColumn('signing_private_key', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await idColumn(db.schema.createTable('devices'))
    .addColumn('product_key', 'text', (c) => c.notNull().references('products.key'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('secret', 'text', (c) => c.notNull())
    .addColumn('online', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_seen_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('devices_product_name', ['product_key', 'name'])
    .execute();
  await db.schema
    .createIndex('devices_product_online')
    .on('devices')
    .columns(['product_key', 'online'])
    .execute();

  await db.schema
    .createTable('device_tags')
    .addColumn('device_id', 'bigint', (c) => c.notNull().references('devices.id').onDelete('cascade'))
    .addColumn('tag', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('device_tags_pk', ['device_id', 'tag'])
    .execute();
  await db.schema.createIndex('device_tags_tag').on('device_tags').columns(['tag', 'device_id']).execute();

  await db.schema
    .createTable('device_versions')
    .addColumn('device_id', 'bigint', (c) => c.notNull().references('devices.id').onDelete('cascade'))
    .addColumn('module', 'text', (c) => c.notNull())
    .addColumn('version', 'text', (c) => c.notNull())
    .addColumn('reported_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('device_versions_pk', ['device_id', 'module'])
    .execute();
  await db.schema
    .createIndex('device_versions_module_version')
    .on('device_versions')
    .columns(['module', 'version'])
    .execute();

  await idColumn(db.schema.createTable('api_tokens'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_used_at', 'bigint')
    .execute();

  await idColumn(db.schema.createTable('firmware'))
    .addColumn('product_key', 'text', (c) => c.notNull().references('products.key'))
    .addColumn('module', 'text', (c) => c.notNull())
    .addColumn('version', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('source_versions', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('file_name', 'text', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('md5', 'text')
    .addColumn('sha256', 'text')
    .addColumn('blob_key', 'text')
    .addColumn('external_url', 'text')
    .addColumn('signature', 'text')
    .addColumn('verify_state', 'text', (c) => c.notNull().defaultTo('unverified'))
    .addColumn('verify_detail', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('firmware_product_module_version', ['product_key', 'module', 'version'])
    .execute();
}
