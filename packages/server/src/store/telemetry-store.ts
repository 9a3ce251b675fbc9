import { type Kysely, sql } from 'kysely';
import type { PresenceWrite, TelemetryWriter, VersionWrite } from '../app/ports/telemetry-writer.js';
import { chunked } from './constraint-errors.js';
import type { StoreDialect } from './database.js';
import type { Database } from './schema.js';

/**
 * Writes what devices report in batches: one upsert per 500 version reports, one UPDATE per presence change set.
 * The measured ceilings (architecture.md) make per-message statements a bottleneck long before the broker is.
 * On PostgreSQL a whole ingest batch is one statement (see `writeBatchInOneStatement`).
 */
export class TelemetryStore implements TelemetryWriter {
  /** `dialect`: 'postgres' enables the one-statement batch; the portable statements work on both. */
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: StoreDialect = 'sqlite',
  ) {}

  async writeBatch(versions: readonly VersionWrite[], presence: readonly PresenceWrite[]): Promise<void> {
    if (this.dialect === 'postgres') return this.writeBatchInOneStatement(versions, presence);
    await this.db.transaction().execute(async (trx) => {
      const inTransaction = new TelemetryStore(trx);
      if (versions.length) await inTransaction.writeVersions(versions);
      if (presence.length) await inTransaction.writePresence(presence);
    });
  }

  async writeVersions(batch: readonly VersionWrite[]): Promise<void> {
    for (const rows of chunked(latestVersions(batch), 500)) {
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
    const { latest, at } = latestPresence(batch);
    for (const online of [true, false]) {
      const ids = latest.filter((w) => w.online === online).map((w) => w.deviceId);
      for (const part of chunked(ids, 500)) {
        await this.db
          .updateTable('devices')
          .set({ online: online ? 1 : 0, last_seen_at: at })
          .where('id', 'in', part)
          .execute();
      }
    }
  }

  /**
   * The same writes as `writeVersions` + `writePresence` in one statement: a data-modifying CTE upserts the versions
   * and the UPDATE sets presence, atomic without BEGIN/COMMIT. Four round trips per ingest batch become one, and the
   * rows travel as arrays (`unnest`), so the statement text and plan are the same whatever the batch size.
   */
  private async writeBatchInOneStatement(
    versions: readonly VersionWrite[],
    presence: readonly PresenceWrite[],
  ): Promise<void> {
    const rows = latestVersions(versions);
    const { latest, at } = latestPresence(presence);
    await sql`
      WITH written_versions AS (
        INSERT INTO device_versions (device_id, module, version, reported_at)
        SELECT * FROM unnest(
          ${rows.map((r) => r.deviceId)}::bigint[],
          ${rows.map((r) => r.module)}::text[],
          ${rows.map((r) => r.version)}::text[],
          ${rows.map((r) => r.at)}::bigint[]
        )
        ON CONFLICT (device_id, module) DO UPDATE
          SET version = excluded.version, reported_at = excluded.reported_at
      )
      UPDATE devices SET online = presence.online, last_seen_at = ${at ?? null}::bigint
      FROM unnest(
        ${latest.map((w) => w.deviceId)}::bigint[],
        ${latest.map((w) => (w.online ? 1 : 0))}::integer[]
      ) AS presence(id, online)
      WHERE devices.id = presence.id`.execute(this.db);
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

/** Last report wins within a batch: ON CONFLICT cannot touch the same row twice in one statement. */
function latestVersions(batch: readonly VersionWrite[]): VersionWrite[] {
  const latest = new Map<string, VersionWrite>();
  for (const write of batch) latest.set(`${write.deviceId}\u0000${write.module}`, write);
  return [...latest.values()];
}

/** The last change per device, and the batch's time: every device it touches is seen at the latest of them. */
function latestPresence(batch: readonly PresenceWrite[]): {
  latest: PresenceWrite[];
  at: number | undefined;
} {
  const latest = new Map<number, PresenceWrite>();
  for (const write of batch) latest.set(write.deviceId, write);
  const writes = [...latest.values()];
  return { latest: writes, at: writes.length ? Math.max(...writes.map((w) => w.at)) : undefined };
}
