import type { Kysely } from 'kysely';
import type { SettingsRepository } from '../app/ports/settings-repository.js';
import type { Database } from './schema.js';

export class SettingsStore implements SettingsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async getOrCreate(key: string, create: () => string): Promise<string> {
    // Insert-if-absent then read back: the first instance to start wins, the others read its value.
    await this.db
      .insertInto('settings')
      .values({ key, value: create() })
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
    const row = await this.db
      .selectFrom('settings')
      .select('value')
      .where('key', '=', key)
      .executeTakeFirstOrThrow();
    return row.value;
  }
}
