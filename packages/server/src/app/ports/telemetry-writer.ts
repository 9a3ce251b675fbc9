/** A version a device reported for one module. */
export interface VersionWrite {
  deviceId: number;
  module: string;
  version: string;
  at: number;
}

/** A device came online or went offline. */
export interface PresenceWrite {
  deviceId: number;
  online: boolean;
  at: number;
}

/** Batched writes of what devices report: one statement per batch, not per message. */
export interface TelemetryWriter {
  /** Writes one ingest batch atomically: readers never see a batch's versions without its presence. */
  writeBatch(versions: readonly VersionWrite[], presence: readonly PresenceWrite[]): Promise<void>;
  writeVersions(batch: readonly VersionWrite[]): Promise<void>;
  writePresence(batch: readonly PresenceWrite[]): Promise<void>;
  /** Marks every device offline (at start: connections from a previous run are gone). */
  markAllOffline(): Promise<void>;
  /** Marks offline the devices not heard from since `before` (external brokers give no disconnect events). */
  markSilentOffline(before: number): Promise<number>;
}
