import type { Kysely } from 'kysely';
import type { UpgradeState } from '../../domain/index.js';
import { chunked } from '../constraint-errors.js';
import type { Database } from '../schema.js';
import { countMoves } from '../upgrade-counts.js';
import { TERMINAL } from '../upgrade-rows.js';

/** A product, devices and jobs to hang upgrade events on, written straight into the tables. */
export interface EventFixture {
  deviceIds: number[];
  jobIds: number[];
  /** Writes an upgrade row (queued unless told; no event), counted in its job's counts, and returns its id. */
  addUpgrade(jobId: number, deviceId: number, state?: UpgradeState): Promise<number>;
  /** The same for many devices at once (a few statements); returns the ids in the devices' order. */
  addUpgrades(jobId: number, deviceIds: readonly number[], state?: UpgradeState): Promise<number[]>;
  /** Writes one upgrade event (as UpgradeStore does) and returns its id. */
  addEvent(event: UpgradeEventInput): Promise<number>;
}

export interface UpgradeEventInput {
  jobId: number;
  deviceId: number;
  upgradeId?: number;
  from?: string | null;
  to: string;
  percent?: number | null;
  at?: number;
}

/** Writes one upgrade event (as UpgradeStore does) and returns its id. */
export async function insertUpgradeEvent(db: Kysely<Database>, event: UpgradeEventInput): Promise<number> {
  const row = await db
    .insertInto('upgrade_events')
    .values({
      upgrade_id: event.upgradeId ?? 1,
      job_id: event.jobId,
      device_id: event.deviceId,
      from_state: event.from ?? null,
      to_state: event.to,
      percent: event.percent ?? null,
      at: event.at ?? 1_700_000_000_000,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(row.id);
}

export async function seedEventFixture(
  db: Kysely<Database>,
  options: {
    productKey?: string;
    devices?: number;
    jobs?: number;
    /** `completed` keeps a running server's engine away from the jobs. */
    jobState?: string;
    now?: number;
  } = {},
): Promise<EventFixture> {
  const now = options.now ?? 1_700_000_000_000;
  const productKey = options.productKey ?? 'pk1';
  await db
    .insertInto('products')
    .values({ key: productKey, name: 'Lamp', dialect: 'aliyun', created_at: now })
    .execute();
  const devices = await db
    .insertInto('devices')
    .values(
      Array.from({ length: options.devices ?? 2 }, (_, i) => ({
        product_key: productKey,
        name: `dev-${i + 1}`,
        secret: 'secret',
        online: 0,
        created_at: now,
      })),
    )
    .returning('id')
    .execute();
  const firmware = await db
    .insertInto('firmware')
    .values({
      product_key: productKey,
      module: 'default',
      version: '2.0',
      description: '',
      source_versions: '[]',
      file_name: 'fw.bin',
      size: 1,
      verify_state: 'verified',
      created_at: now,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const jobs = await db
    .insertInto('jobs')
    .values(
      Array.from({ length: options.jobs ?? 2 }, () => ({
        kind: 'batch',
        product_key: productKey,
        firmware_id: Number(firmware.id),
        module: 'default',
        target_version: '2.0',
        state: options.jobState ?? 'running',
        name: '',
        targets: '{}',
        source_versions: '[]',
        strategy: '{}',
        dynamic: 0,
        allow_unverified: 0,
        supersede: 0,
        current_group: 0,
        selected: 0,
        skipped: 0,
        conflicts: 0,
        enrolled_until: 0,
        created_at: now,
      })),
    )
    .returning('id')
    .execute();
  const addUpgrades: EventFixture['addUpgrades'] = async (jobId, deviceIds, state = 'queued') => {
    const ids: number[] = [];
    for (const part of chunked(deviceIds, 500)) {
      const rows = await db
        .insertInto('upgrades')
        .values(
          part.map((deviceId) => ({
            job_id: jobId,
            device_id: deviceId,
            module: 'default',
            target_version: '2.0',
            state,
            attempt: 1,
            group_index: 0,
            active: TERMINAL.includes(state) ? 0 : 1,
            queued_at: now,
            last_activity_at: now,
          })),
        )
        .returning('id')
        .execute();
      ids.push(...rows.map((row) => Number(row.id)));
    }
    await countMoves(
      db,
      ids.map(() => ({ jobId, from: null, to: state })),
    );
    return ids;
  };
  return {
    deviceIds: devices.map((d) => Number(d.id)),
    jobIds: jobs.map((j) => Number(j.id)),
    addUpgrade: async (jobId, deviceId, state) => (await addUpgrades(jobId, [deviceId], state))[0]!,
    addUpgrades,
    addEvent: (event) => insertUpgradeEvent(db, { at: now, ...event }),
  };
}
