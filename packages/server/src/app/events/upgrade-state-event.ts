import type { UpgradeState } from '../../domain/index.js';

/** The `type` of an upgrade transition: SSE `data.type`, webhook `X-Aloft-Event`. */
export const UPGRADE_STATE_EVENT = 'upgrade.state';

/** The `type` of a webhook test delivery. */
export const PING_EVENT = 'ping';

/**
 * One recorded change of one device's upgrade: a state transition, or progress within a state (then
 * `fromState === toState`). The same JSON is an SSE `data:` line and a webhook body.
 */
export interface UpgradeStateEvent {
  /** Position in the feed; increasing, shared by every server instance (the SSE `id:`). */
  id: number;
  type: typeof UPGRADE_STATE_EVENT;
  jobId: number;
  upgradeId: number;
  deviceId: number;
  /** Null when the device was deleted since. */
  deviceName: string | null;
  productKey: string;
  /** Null for the first event of an upgrade (it was created `queued`). */
  fromState: UpgradeState | null;
  toState: UpgradeState;
  /** Progress phase reported by the device (`downloading`, `installing`…), when any. */
  phase: string | null;
  percent: number | null;
  /** Normalized failure code (`timeout`, `download_failed`…) on a failure. */
  errorCode: string | null;
  message: string | null;
  /** Epoch milliseconds. */
  at: number;
}

/** Narrows the feed: one job, some target states. Empty or absent = everything. */
export interface EventFilter {
  jobId?: number | undefined;
  states?: readonly UpgradeState[] | undefined;
}
