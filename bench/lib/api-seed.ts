import type { Insertable, Kysely } from 'kysely';
import type { Database, UpgradeTable } from '../../packages/server/src/store/schema.js';
import { seedDevices, seedFirmware, seedProduct, seedRunningJob, seedVersions } from './seed.js';
import { uniqueKey } from './services.js';

/** Per 100 upgrades: where a big rollout half an hour in might stand. Failures are spread over the whole job. */
const MIX: readonly { state: string; share: number }[] = [
  { state: 'succeeded', share: 60 },
  { state: 'failed', share: 10 },
  { state: 'timed_out', share: 2 },
  { state: 'downloading', share: 8 },
  { state: 'installing', share: 2 },
  { state: 'notified', share: 3 },
  { state: 'queued', share: 15 },
];

function stateOf(i: number): string {
  let slot = i % 100;
  for (const { state, share } of MIX) {
    if (slot < share) return state;
    slot -= share;
  }
  return 'queued';
}

export interface LargeJob {
  productKey: string;
  jobId: number;
  devices: number;
  /** Rows in the `failed` tab (failed + timed_out). */
  failed: number;
  seedMs: number;
}

/** A product with `count` devices and one running job over all of them, in MIX's proportions. */
export async function seedLargeJob(db: Kysely<Database>, count: number): Promise<LargeJob> {
  const started = performance.now();
  const productKey = uniqueKey(10);
  await seedProduct(db, productKey, 'aliyun');
  const ids = await seedDevices(
    db,
    productKey,
    Array.from({ length: count }, (_, i) => `dev${String(i).padStart(7, '0')}`),
  );
  const firmwareId = await seedFirmware(db, productKey, 'default', '2.0.0');
  const startedAt = Date.now() - 30 * 60_000;
  let failed = 0;
  const jobId = await seedRunningJob(
    db,
    { productKey, firmwareId, module: 'default', targetVersion: '2.0.0', selected: count, startedAt },
    (id) =>
      ids.map((deviceId, i): Insertable<UpgradeTable> => {
        const state = stateOf(i);
        // Spread over the half hour since the start, so the 5-minute throughput window holds a sixth of them.
        const at = startedAt + ((i * 7919) % (30 * 60_000));
        const terminal = state === 'succeeded' || state === 'failed' || state === 'timed_out';
        if (state === 'failed' || state === 'timed_out') failed++;
        return {
          job_id: id,
          device_id: deviceId,
          module: 'default',
          target_version: '2.0.0',
          source_version: '1.0.0',
          state,
          phase: state === 'downloading' ? 'downloading' : state === 'installing' ? 'installing' : null,
          percent: state === 'downloading' ? 40 : state === 'installing' ? 100 : null,
          error_code: state === 'failed' ? 'download_failed' : state === 'timed_out' ? 'timeout' : null,
          error_message: state === 'failed' ? 'download failed' : null,
          attempt: 1,
          group_index: 0,
          active: terminal ? 0 : 1,
          queued_at: startedAt,
          notified_at: state === 'queued' ? null : at,
          last_activity_at: state === 'queued' ? startedAt : at,
          finished_at: terminal ? at : null,
          retry_at: null,
        };
      }),
  );
  await seedVersions(
    db,
    ids.map((deviceId, i) => ({
      device_id: deviceId,
      module: 'default',
      version: stateOf(i) === 'succeeded' ? '2.0.0' : '1.0.0',
      reported_at: startedAt,
    })),
  );
  return { productKey, jobId, devices: count, failed, seedMs: performance.now() - started };
}
