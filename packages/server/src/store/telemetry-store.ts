import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { PresenceWrite, TelemetryWriter, VersionWrite } from '../app/ports/telemetry-writer.js';
import type { StoreDialect } from './database.js';
import { jsonRows } from './json-rows.js';
import type { Database } from './schema.js';

/**
 * Writes what devices report in batches: one upsert per batch of version reports, one UPDATE per batch of presence
 * changes. The measured ceilings (architecture.md) make per-message statements a bottleneck long before the broker
 * is. Each statement takes its rows as one JSON parameter (`jsonRows`): its text is the same whatever the batch size,
 * so SQLite reuses the prepared statement, and no query-builder tree is built per row. On PostgreSQL a whole ingest
 * batch is one statement.
 */
export class TelemetryStore implements TelemetryWriter {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: StoreDialect,
  ) {}

  async writeBatch(versions: readonly VersionWrite[], presence: readonly PresenceWrite[]): Promise<void> {
    if (this.dialect === 'postgres') {
      // A data-modifying CTE upserts the versions and the UPDATE sets presence: atomic without BEGIN/COMMIT, so four
      // round trips per ingest batch become one. JSON rows rather than the former `unnest` of four arrays: as fast,
      // and half the server's CPU to send a 300-device batch (~0.55 against ~1 ms: pg serializes arrays in JS).
      await sql`
        WITH written_versions AS (${upsertVersions(this.dialect, versions)})
        ${updatePresence(this.dialect, presence)}`.execute(this.db);
      return;
    }
    await this.db.transaction().execute(async (trx) => {
      if (versions.length) await upsertVersions(this.dialect, versions).execute(trx);
      if (presence.length) await updatePresence(this.dialect, presence).execute(trx);
    });
  }

  async writeVersions(batch: readonly VersionWrite[]): Promise<void> {
    if (batch.length) await upsertVersions(this.dialect, batch).execute(this.db);
  }

  async writePresence(batch: readonly PresenceWrite[]): Promise<void> {
    if (batch.length) await updatePresence(this.dialect, batch).execute(this.db);
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

/** The versions of a batch, upserted per (device, module). */
function upsertVersions(dialect: StoreDialect, batch: readonly VersionWrite[]): RawBuilder<unknown> {
  const reported = jsonRows(
    dialect,
    latestVersions(batch).map((w) => ({
      device_id: w.deviceId,
      module: w.module,
      version: w.version,
      reported_at: w.at,
    })),
    { device_id: 'bigint', module: 'text', version: 'text', reported_at: 'bigint' },
    'reported',
  );
  // `WHERE true`: without a WHERE, SQLite parses the ON of `ON CONFLICT` as the join constraint of the FROM
  // (sqlite.org/lang_upsert.html, "parsing ambiguity").
  return sql`
    INSERT INTO device_versions (device_id, module, version, reported_at)
    SELECT device_id, module, version, reported_at FROM ${reported} WHERE true
    ON CONFLICT (device_id, module) DO UPDATE
      SET version = excluded.version, reported_at = excluded.reported_at`;
}

/** The presence of a batch's devices, each as last changed, all seen at the batch's time. */
function updatePresence(dialect: StoreDialect, batch: readonly PresenceWrite[]): RawBuilder<unknown> {
  const { latest, at } = latestPresence(batch);
  const presence = jsonRows(
    dialect,
    latest.map((w) => ({ id: w.deviceId, online: w.online ? 1 : 0 })),
    { id: 'bigint', online: 'integer' },
    'presence',
  );
  // A device already online and seen less than PRESENCE_REFRESH_MS before is left as it is: while it talks, most
  // of its messages would otherwise each write its row again (a new row version and its WAL) to move `last_seen_at`
  // by milliseconds. A change of `online` is always written.
  return sql`
    UPDATE devices SET online = presence.online, last_seen_at = ${at ?? null}
    FROM ${presence}
    WHERE devices.id = presence.id
      AND (devices.online <> presence.online
        OR devices.last_seen_at IS NULL
        OR devices.last_seen_at < ${at === undefined ? null : at - PRESENCE_REFRESH_MS})`;
}

/**
 * How stale `last_seen_at` of an online device may get while it keeps sending: far below the smallest presence
 * timeout (`presenceTimeoutSeconds` ≥ 10 s), so a talking device is never taken for a silent one.
 */
export const PRESENCE_REFRESH_MS = 5_000;

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
