import type { Kysely } from 'kysely';
import type { PresenceWrite, TelemetryWriter, VersionWrite } from '../app/ports/telemetry-writer.js';
import { chunked } from './constraint-errors.js';
import type { Database } from './schema.js';

/**
 * Writes what devices report in batches: one upsert per 500 version reports, one UPDATE per presence change set.
 * The measured ceilings (architecture.md) make per-message statements a bottleneck long before the broker is.
 */
export class TelemetryStore implements TelemetryWriter {
  constructor(private readonly db: Kysely<Database>) {}

  async writeBatch(versions: readonly VersionWrite[], presence: readonly PresenceWrite[]): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const inTransaction = new TelemetryStore(trx);
      if (versions.length) await inTransaction.writeVersions(versions);
      if (presence.length) await inTransaction.writePresence(presence);
    });
  }

  async writeVersions(batch: readonly VersionWrite[]): Promise<void> {
    // Last report wins within a batch: ON CONFLICT cannot touch the same row twice in one statement.
    const latest = new Map<string, VersionWrite>();
    for (const write of batch) latest.set(`${write.deviceId}\u0000${write.module}`, write);
    for (const rows of chunked([...latest.values()], 500)) {
      await this.db
        .insertInto('device_versions')
        .values(
          rows.map((r) => ({
            device_id: r.deviceId,
            module: r.module,
            version: r.version,
            reported_at: r.at,
          })),
        )
        .onConflict((oc) =>
          oc.columns(['device_id', 'module']).doUpdateSet((eb) => ({
            version: eb.ref('excluded.version'),
            reported_at: eb.ref('excluded.reported_at'),
          })),
        )
        .execute();
    }
  }

  async writePresence(batch: readonly PresenceWrite[]): Promise<void> {
    const latest = new Map<number, PresenceWrite>();
    for (const write of batch) latest.set(write.deviceId, write);
    const at = Math.max(...[...latest.values()].map((w) => w.at));
    for (const online of [true, false]) {
      const ids = [...latest.values()].filter((w) => w.online === online).map((w) => w.deviceId);
      for (const part of chunked(ids, 500)) {
        await this.db
          .updateTable('devices')
          .set({ online: online ? 1 : 0, last_seen_at: at })
          .where('id', 'in', part)
          .execute();
      }
    }
  }

  async markSilentOffline(before: number): Promise<number> {
    const result = await this.db
      .updateTable('devices')
      .set({ online: 0 })
      .where('online', '=', 1)
      .where('last_seen_at', '<', before)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async markAllOffline(): Promise<void> {
    await this.db.updateTable('devices').set({ online: 0 }).where('online', '=', 1).execute();
  }
}
