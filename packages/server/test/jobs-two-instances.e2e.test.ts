import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POSTGRES, serviceUrl } from '../src/testing/services.js';
import {
  dropSchema,
  eventually,
  serverModes,
  startTestServer,
  type TestServer,
  testSchema,
} from '../src/testing/test-server.js';
import {
  createFleet,
  createJob,
  FAST_ENGINE,
  type Fleet,
  type JobView,
  jobDetail,
  jobUpgrades,
} from './jobs-fixture.js';

const scaled = serverModes().find((m) => m.store === 'postgres' && m.broker === 'external')!;
const PER_PRODUCT = 25;
const MAX_IN_FLIGHT = 4;

/**
 * Two server instances on one PostgreSQL schema and one Mosquitto, both running the engine: claims are
 * compare-and-set with SKIP LOCKED, so every device is told exactly once per dispatch. Counted at the devices.
 */
describe.skipIf(!scaled.available)('two server instances sharing PostgreSQL and Mosquitto', () => {
  const schema = testSchema();
  const servers: TestServer[] = [];
  const fleets: Fleet[] = [];

  beforeAll(async () => {
    // One share group: the broker splits device traffic between the two, as in production.
    const overrides = { ...FAST_ENGINE, mqttShareGroup: `g${randomBytes(4).toString('hex')}` };
    for (let i = 0; i < 2; i++) {
      servers.push(await startTestServer({ store: 'postgres', broker: 'external', schema, overrides }));
    }
  });
  afterAll(async () => {
    for (const f of fleets) await f.close();
    for (const s of servers) await s.close();
    const url = serviceUrl(POSTGRES);
    if (url) await dropSchema(url, schema);
  });

  it('dispatches every device exactly once while both engines run', { timeout: 60_000 }, async () => {
    const [a, b] = servers as [TestServer, TestServer];
    for (const dialect of ['aliyun', 'iothub'] as const) {
      const f = await createFleet(a, { dialect, count: PER_PRODUCT });
      fleets.push(f);
      for (const d of f.devices) d.autoUpgrade('1.0.0', 15);
      await Promise.all(f.devices.map((d) => d.comeOnline()));
      await f.waitReported(f.devices, '1.0.0');
    }
    const [unlimited, limited] = fleets as [Fleet, Fleet];
    // Device-side view of "told and not finished", to check maxInFlight across both instances.
    let inFlight = 0;
    let maxSeen = 0;
    for (const d of limited.devices) {
      d.onActivity = (what) => {
        // Flashed = reported right after: the server cannot have freed its slot before this runs.
        inFlight += what === 'task' ? 1 : -1;
        maxSeen = Math.max(maxSeen, inFlight);
      };
    }

    // Created on different instances; each kicks its own engine, the other ticks on its interval.
    const jobs: JobView[] = [
      await createJob(a, 'batch', { firmwareId: unlimited.firmware.id, allowUnverified: true }),
      await createJob(b, 'batch', {
        firmwareId: limited.firmware.id,
        allowUnverified: true,
        strategy: { maxInFlight: MAX_IN_FLIGHT },
      }),
    ];
    const done = await eventually(
      async () => {
        const details = await Promise.all(jobs.map((j, i) => jobDetail(servers[i % 2]!, j.id)));
        return details.every((d) => d.state === 'completed') ? details : undefined;
      },
      'both jobs to complete',
      40_000,
    );

    for (const detail of done) {
      expect(detail).toMatchObject({ selected: PER_PRODUCT, skipped: 0, conflicts: 0 });
      expect(detail.total).toBe(PER_PRODUCT);
      expect(detail.counts.succeeded).toBe(PER_PRODUCT);
      const upgrades = await jobUpgrades(b, detail.id);
      expect(new Set(upgrades.map((u) => u.deviceName)).size).toBe(PER_PRODUCT);
    }
    for (const d of fleets.flatMap((f) => f.devices)) {
      // Exactly one push per device: neither instance dispatched what the other had claimed.
      expect(d.tasks.length, `${d.name} tasks`).toBe(1);
      expect(d.installs).toEqual(['2.0.0']);
    }
    expect(maxSeen).toBeLessThanOrEqual(MAX_IN_FLIGHT);
    expect(maxSeen).toBeGreaterThan(0);
  });

  it('handles a Tencent device once although both instances receive its messages', async () => {
    // Mosquitto 2.0.11 does not deliver `$` topics to shared subscriptions, so both instances subscribe
    // `$ota/report/+/+` plainly and both process every Tencent message: compare-and-set must keep that harmless.
    const [a] = servers as [TestServer];
    const f = await createFleet(a, { dialect: 'tencent', count: 3 });
    fleets.push(f);
    for (const d of f.devices) d.autoUpgrade('1.0.0', 15);
    await Promise.all(f.devices.map((d) => d.comeOnline()));
    await f.waitReported(f.devices, '1.0.0');
    const job = await createJob(a, 'batch', { firmwareId: f.firmware.id, allowUnverified: true });
    await eventually(async () => (await jobDetail(a, job.id)).state === 'completed', 'completed');
    const detail = await jobDetail(a, job.id);
    expect(detail).toMatchObject({ selected: 3, conflicts: 0 });
    expect(detail.counts.succeeded).toBe(3);
    for (const d of f.devices) {
      expect(d.tasks, d.name).toHaveLength(1);
      const history = await a.api<{ transitions: { toState: string; percent: number | null }[] }[]>(
        'GET',
        `/api/v1/products/${f.productKey}/devices/${d.name}/upgrades`,
      );
      // Each move recorded once, though two instances saw each message.
      const moves = history.body[0]!.transitions.map((m) => `${m.toState}:${m.percent ?? ''}`);
      expect(new Set(moves).size).toBe(moves.length);
      expect(moves.filter((m) => m.startsWith('succeeded'))).toHaveLength(1);
      expect(moves.slice(0, 2)).toEqual(['queued:', 'notified:']);
    }
  });
});
