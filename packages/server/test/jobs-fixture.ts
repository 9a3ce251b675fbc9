import { createHash, randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { eventually, TEST_ADMIN_TOKEN, type TestServer } from '../src/testing/test-server.js';
import { DIALECT_SPECS, SimDevice, type SimDialect } from './sim-device.js';

/** What the helpers need of a server: a `TestServer`, or a server in a child process (`remoteServer`). */
export type ServerUnderTest = Pick<TestServer, 'api' | 'mqttUrl'> & { server: { httpUrl: string } };

/** A server reached only over the network, with the test admin token. */
export function remoteServer(httpUrl: string, mqttUrl: string): ServerUnderTest {
  return {
    server: { httpUrl },
    mqttUrl,
    async api<T>(method: string, path: string, body?: unknown) {
      const response = await fetch(`${httpUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${TEST_ADMIN_TOKEN}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await response.text();
      return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
    },
  };
}

/** Fast engine and ingest for the jobs suites; strategies give the per-device timings. */
export const FAST_ENGINE = { engineTickMs: 50, ingestBatchMs: 2 } as const;

export interface JobView {
  id: number;
  kind: string;
  state: string;
  firmwareId: number;
  targetVersion: string;
  currentGroup: number;
  selected: number;
  skipped: number;
  conflicts: number;
  reason: string | null;
  startedAt: number | null;
  finishedAt: number | null;
}

export type UpgradeStateName =
  | 'queued'
  | 'notified'
  | 'downloading'
  | 'installing'
  | 'succeeded'
  | 'failed'
  | 'timed_out'
  | 'cancelled';

export interface JobDetailView extends JobView {
  /** Every state is present (0 when none). */
  counts: Record<UpgradeStateName, number>;
  tabs: Record<'pending' | 'upgrading' | 'succeeded' | 'failed' | 'cancelled', number>;
  total: number;
}

export interface UpgradeView {
  id: number;
  jobId: number;
  deviceName: string;
  state: string;
  phase: string | null;
  percent: number | null;
  errorCode: string | null;
  errorMessage: string | null;
  attempt: number;
  groupIndex: number;
  sourceVersion: string | null;
  notifiedAt: number | null;
}

export interface FirmwareView {
  id: number;
  version: string;
  module: string;
  verifyState: string;
  verifyDetail: string | null;
  size: number;
  md5: string | null;
}

export interface FleetOptions {
  dialect: SimDialect;
  count: number;
  /** What every device runs before the rollout (reported on connect). */
  version?: string;
  /** The firmware's version. */
  target?: string;
  /** Source versions declared on the package. */
  firmwareSources?: string[];
  tags?: (index: number) => string[];
  prefix?: string;
}

/** One product of one dialect with its devices (not connected yet) and a package to roll out. */
export class Fleet {
  constructor(
    readonly t: ServerUnderTest,
    readonly dialect: SimDialect,
    readonly productKey: string,
    readonly firmware: FirmwareView,
    readonly devices: SimDevice[],
    readonly version: string,
  ) {}

  get target(): string {
    return this.firmware.version;
  }

  device(name: string): SimDevice {
    const device = this.devices.find((d) => d.name === name);
    if (!device) throw new Error(`no device ${name}`);
    return device;
  }

  get names(): string[] {
    return this.devices.map((d) => d.name);
  }

  /** Connects the devices and has each report its current version, as vendor SDKs do on connect. */
  async bringOnline(devices: readonly SimDevice[] = this.devices, version = this.version): Promise<void> {
    await Promise.all(
      devices.map(async (d) => {
        await d.connect();
        await d.reportVersion(version);
      }),
    );
    await this.waitReported(devices, version);
  }

  /** Waits until the server has recorded `version` for these devices. */
  async waitReported(devices: readonly SimDevice[], version: string): Promise<void> {
    const module = DIALECT_SPECS[this.dialect].module;
    await eventually(async () => {
      const r = await this.t.api<{ items: { name: string; versions: Record<string, string> }[] }>(
        'GET',
        `/api/v1/products/${this.productKey}/devices?limit=1000`,
      );
      const byName = new Map(r.body.items.map((i) => [i.name, i.versions[module]]));
      return devices.every((d) => byName.get(d.name) === version);
    }, `version ${version} recorded for ${devices.length} device(s)`);
  }

  /** Another package for the same product (e.g. a second job). */
  upload(version: string, sourceVersions?: string[]): Promise<FirmwareView> {
    return uploadFirmware(
      this.t,
      this.productKey,
      DIALECT_SPECS[this.dialect].module,
      version,
      sourceVersions,
    );
  }

  async close(): Promise<void> {
    await Promise.all(this.devices.map((d) => d.disconnect()));
  }
}

/** Creates a product, its devices and a package (unverified unless `verify` is run). */
export async function createFleet(t: ServerUnderTest, options: FleetOptions): Promise<Fleet> {
  const spec = DIALECT_SPECS[options.dialect];
  const productKey = spec.productKey();
  const created = await t.api('POST', '/api/v1/products', {
    key: productKey,
    name: `${options.dialect} jobs`,
    dialect: options.dialect,
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const prefix = options.prefix ?? 'dev';
  const rows = Array.from({ length: options.count }, (_, i) => ({
    name: `${prefix}-${String(i + 1).padStart(3, '0')}`,
    ...(options.tags ? { tags: options.tags(i) } : {}),
  }));
  const imported = await t.api<{ devices: { name: string; secret: string }[] }>(
    'POST',
    `/api/v1/products/${productKey}/devices/import`,
    { devices: rows },
  );
  expect(imported.status, JSON.stringify(imported.body)).toBe(201);
  const firmware = await uploadFirmware(
    t,
    productKey,
    spec.module,
    options.target ?? '2.0.0',
    options.firmwareSources,
  );
  const devices = imported.body.devices.map(
    (d) => new SimDevice(options.dialect, productKey, d.name, d.secret, t.mqttUrl),
  );
  return new Fleet(t, options.dialect, productKey, firmware, devices, options.version ?? '1.0.0');
}

/** Uploads a small package through the multipart API. */
export async function uploadFirmware(
  t: ServerUnderTest,
  productKey: string,
  module: string,
  version: string,
  sourceVersions?: string[],
): Promise<FirmwareView> {
  const bytes = randomBytes(2048);
  const form = new FormData();
  form.append('module', module);
  form.append('version', version);
  if (sourceVersions) form.append('sourceVersions', sourceVersions.join(','));
  form.append('md5', createHash('md5').update(bytes).digest('hex'));
  form.append('file', new Blob([bytes]), `fw-${version}.bin`);
  const response = await fetch(`${t.server.httpUrl}/api/v1/products/${productKey}/firmware`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
    body: form,
  });
  const body = (await response.json()) as FirmwareView;
  expect(response.status, JSON.stringify(body)).toBe(201);
  return body;
}

/** POSTs a job and expects 201. */
export async function createJob(t: ServerUnderTest, path: string, body: unknown): Promise<JobView> {
  const r = await t.api<JobView>('POST', `/api/v1/jobs/${path}`, body);
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body;
}

export async function jobDetail(t: ServerUnderTest, id: number): Promise<JobDetailView> {
  const r = await t.api<JobDetailView>('GET', `/api/v1/jobs/${id}`);
  expect(r.status).toBe(200);
  return r.body;
}

/** Polls the job detail until `check` holds. */
export function waitForJob(
  t: ServerUnderTest,
  id: number,
  check: (job: JobDetailView) => boolean,
  what: string,
  timeoutMs?: number,
): Promise<JobDetailView> {
  return eventually(
    async () => {
      const job = await jobDetail(t, id);
      return check(job) ? job : undefined;
    },
    `job ${id}: ${what}`,
    timeoutMs,
  );
}

/** Every upgrade of a job, in id order. */
export async function jobUpgrades(t: ServerUnderTest, id: number): Promise<UpgradeView[]> {
  const r = await t.api<{ items: UpgradeView[] }>('GET', `/api/v1/jobs/${id}/devices?limit=1000`);
  expect(r.status).toBe(200);
  return r.body.items;
}

/** The upgrade of one device in one job. */
export async function upgradeOf(t: ServerUnderTest, jobId: number, deviceName: string): Promise<UpgradeView> {
  const upgrade = (await jobUpgrades(t, jobId)).find((u) => u.deviceName === deviceName);
  if (!upgrade) throw new Error(`job ${jobId} has no upgrade for ${deviceName}`);
  return upgrade;
}

/** Polls until the device's upgrade in the job satisfies `check`. */
export function waitForUpgrade(
  t: ServerUnderTest,
  jobId: number,
  deviceName: string,
  check: (u: UpgradeView) => boolean,
  what: string,
  timeoutMs?: number,
): Promise<UpgradeView> {
  return eventually(
    async () => {
      const upgrade = (await jobUpgrades(t, jobId)).find((u) => u.deviceName === deviceName);
      return upgrade && check(upgrade) ? upgrade : undefined;
    },
    `${deviceName} in job ${jobId}: ${what}`,
    timeoutMs,
  );
}

/** Polls until the device has received `count` tasks. */
export function waitForTasks(device: SimDevice, count = 1, timeoutMs?: number): Promise<SimDevice['tasks']> {
  return eventually(
    async () => (device.tasks.length >= count ? device.tasks : undefined),
    `${device.name} to receive ${count} task(s)`,
    timeoutMs,
  );
}

/**
 * Waits until the device holds its `count`-th task and the server shows the upgrade told. Devices are told inside
 * the claiming transaction, just before it commits (UpgradeRepository.claimForDispatch), so on PostgreSQL a very
 * fast first progress report can meet the upgrade still `queued` and be ignored; tests that count every progress
 * step wait for this first.
 */
export async function waitForTold(
  t: ServerUnderTest,
  jobId: number,
  device: SimDevice,
  count = 1,
): Promise<UpgradeView> {
  await waitForTasks(device, count);
  return waitForUpgrade(t, jobId, device.name, (u) => u.state !== 'queued', 'told');
}

/** Gives the server time to do something it must NOT do (a dispatch it should withhold), by waiting some ticks. */
export async function settle(ms = 400): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** Sum of every state count. */
export function totalOf(counts: Record<string, number>): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}
