import type { Kysely } from 'kysely';

/**
 * A job's upgrades of one state in id order: a device tab's page is then read from the front of each of its states'
 * ranges instead of sorting the whole tab (the 12,000-row failed tab of a 100,000-device job: bench/api.ts).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex('upgrades_job_state_id')
    .on('upgrades')
    .columns(['job_id', 'state', 'id'])
    .execute();
}
