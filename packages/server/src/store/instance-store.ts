import type { Kysely } from 'kysely';
import type { InstanceRecord, InstanceRegistry } from '../app/ports/instance-registry.js';
import type { Database } from './schema.js';

/** The `server_instances` table: one row per live instance, refreshed by its heartbeat. */
export class InstanceStore implements InstanceRegistry {
  constructor(private readonly db: Kysely<Database>) {}

  async heartbeat(self: InstanceRecord, now: number, aliveSince: number): Promise<string[]> {
    // An upsert, not an update: an instance that stalled past the timeout was forgotten by the others and comes back.
    await this.db
      .insertInto('server_instances')
      .values({ id: self.id, host: self.host, started_at: self.startedAt, heartbeat_at: now })
      .onConflict((oc) => oc.column('id').doUpdateSet({ heartbeat_at: now }))
      .execute();
    // Crashed instances never deregister: whoever heartbeats clears them, so the table shows the live ones.
    await this.db.deleteFrom('server_instances').where('heartbeat_at', '<', aliveSince).execute();
    return this.alive(aliveSince);
  }

  async deregister(id: string, aliveSince: number): Promise<string[]> {
    await this.db.deleteFrom('server_instances').where('id', '=', id).execute();
    return this.alive(aliveSince);
  }

  private async alive(aliveSince: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('server_instances')
      .select('id')
      .where('heartbeat_at', '>=', aliveSince)
      .execute();
    return rows.map((r) => r.id);
  }
}
