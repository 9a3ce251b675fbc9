import type { ProgressReport, TaskRequest } from '@aloft/protocol';

/** A device message after the ingest resolved who sent it. */
export type DeviceEvent =
  | { kind: 'version'; deviceId: number; module: string; version: string; at: number }
  | { kind: 'progress'; deviceId: number; report: ProgressReport; at: number }
  | {
      kind: 'task_request';
      deviceId: number;
      productKey: string;
      deviceName: string;
      request: TaskRequest;
      at: number;
    }
  | { kind: 'online'; deviceId: number; at: number };

/**
 * Where the ingest hands device events after writing their telemetry (the rollout engine listens here).
 * Called once per batch, its events in arrival order. Batches of different ingest lanes may be handled at the same
 * time, but a device's events are always in one lane: two calls in flight never share a device.
 */
export interface DeviceEventSink {
  handle(events: readonly DeviceEvent[]): Promise<void>;
}
