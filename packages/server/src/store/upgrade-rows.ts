import type { Selectable } from 'kysely';
import type { Upgrade, UpgradeEventRecord } from '../app/ports/job-repository.js';
import type { UpgradeState } from '../domain/index.js';
import type { UpgradeEventTable, UpgradeTable } from './schema.js';

export function toUpgrade(row: Selectable<UpgradeTable>): Upgrade {
  return {
    id: Number(row.id),
    jobId: Number(row.job_id),
    deviceId: Number(row.device_id),
    module: row.module,
    targetVersion: row.target_version,
    sourceVersion: row.source_version,
    state: row.state as UpgradeState,
    phase: row.phase,
    percent: row.percent,
    errorCode: row.error_code,
    errorMessage: row.error_message,
    attempt: row.attempt,
    groupIndex: row.group_index,
    queuedAt: row.queued_at,
    notifiedAt: row.notified_at,
    lastActivityAt: row.last_activity_at,
    finishedAt: row.finished_at,
    retryAt: row.retry_at,
  };
}

export function toEventRecord(row: Selectable<UpgradeEventTable>): UpgradeEventRecord {
  return {
    id: Number(row.id),
    upgradeId: Number(row.upgrade_id),
    jobId: Number(row.job_id),
    deviceId: Number(row.device_id),
    fromState: row.from_state,
    toState: row.to_state,
    phase: row.phase,
    percent: row.percent,
    errorCode: row.error_code,
    message: row.message,
    at: row.at,
  };
}

export const TERMINAL = ['succeeded', 'failed', 'timed_out', 'cancelled'];
export const IN_FLIGHT = ['notified', 'downloading', 'installing'];
export const RETRYABLE = ['failed', 'timed_out'];
