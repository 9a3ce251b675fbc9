import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, TEST_ADMIN_TOKEN } from '../src/testing/test-server.js';
import { buildServer, ChildServer, freePort } from './child-server.js';
import {
  createFleet,
  createJob,
  type Fleet,
  type JobDetailView,
  type JobView,
  jobDetail,
  jobUpgrades,
  remoteServer,
  type ServerUnderTest,
} from './jobs-fixture.js';
import { SIM_DIALECTS } from './sim-device.js';

const DEVICES_PER_DIALECT = 8;
const TOTAL = DEVICES_PER_DIALECT * SIM_DIALECTS.length;

/**
 * The server runs in a child process (built with `tsc -b` first, see `buildServer`) on a fixed SQLite data dir and
 * fixed ports, is killed with SIGKILL mid-rollout, and started again on the same data dir: every device must
 * finish exactly once. Embedded broker + SQLite, the one mode a single machine restarts in place.
 */
describe('a server killed mid-rollout', () => {
  let dir: string;
  let env: Record<string, string>;
  let child: ChildServer | undefined;
  let target: ServerUnderTest;
  const fleets: Fleet[] = [];

  beforeAll(async () => {
    await buildServer();
    dir = await mkdtemp(join(tmpdir(), 'aloft-restart-'));
    const [httpPort, mqttPort] = [await freePort(), await freePort()];
    env = {
      ALOFT_DATA_DIR: join(dir, 'data'),
      ALOFT_HTTP_HOST: '127.0.0.1',
      ALOFT_HTTP_PORT: String(httpPort),
      ALOFT_MQTT_HOST: '127.0.0.1',
      ALOFT_MQTT_PORT: String(mqttPort),
      ALOFT_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
      ALOFT_ENGINE_TICK_MS: '50',
      ALOFT_INGEST_BATCH_MS: '2',
      ALOFT_LOG_LEVEL: 'warn',
    };
  }, 180_000);
  afterAll(async () => {
    for (const f of fleets) await f.close();
    await child?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('resumes after kill -9 with no upgrade lost or duplicated', { timeout: 90_000 }, async () => {
    child = await ChildServer.start(dir, env);
    target = remoteServer(child.httpUrl, child.mqttUrl);
    for (const dialect of SIM_DIALECTS) {
      const f = await createFleet(target, { dialect, count: DEVICES_PER_DIALECT });
      fleets.push(f);
      for (const d of f.devices) d.autoUpgrade('1.0.0', 60);
      await Promise.all(f.devices.map((d) => d.comeOnline()));
      await f.waitReported(f.devices, '1.0.0');
    }
    const devices = fleets.flatMap((f) => f.devices);
    const jobs: JobView[] = [];
    for (const f of fleets) {
      jobs.push(
        await createJob(target, 'batch', {
          firmwareId: f.firmware.id,
          allowUnverified: true,
          strategy: { maxInFlight: 2, deviceTimeoutSeconds: 60 },
        }),
      );
    }
    const succeeded = async () => {
      const details = await Promise.all(jobs.map((j) => jobDetail(target, j.id)));
      return details.reduce((sum, d) => sum + d.counts.succeeded, 0);
    };

    // Mid-rollout: some devices done, some upgrading, some still queued.
    await eventually(async () => (await succeeded()) >= TOTAL / 4, 'a quarter of the fleet upgraded', 30_000);
    expect(await child.kill9()).toBe('SIGKILL');
    await eventually(async () => devices.every((d) => !d.connected), 'devices to lose the broker');
    const flashedBeforeRestart = devices.filter((d) => d.installs.length > 0).length;
    expect(flashedBeforeRestart).toBeLessThan(TOTAL);

    child = await ChildServer.start(dir, env);
    // Devices reconnect and report what they run, as vendor SDKs do.
    await Promise.all(devices.map((d) => d.comeOnline()));

    const finished = await eventually(
      async () => {
        const details = await Promise.all(jobs.map((j) => jobDetail(target, j.id)));
        return details.every((d) => d.state === 'completed') ? details : undefined;
      },
      'every job to complete after the restart',
      45_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\nserver log:\n${child?.log}`);
    });

    for (const detail of finished as JobDetailView[]) {
      expect(detail).toMatchObject({ selected: DEVICES_PER_DIALECT, skipped: 0, conflicts: 0 });
      expect(detail.total).toBe(DEVICES_PER_DIALECT);
      expect(detail.counts.succeeded).toBe(DEVICES_PER_DIALECT);
      const upgrades = await jobUpgrades(target, detail.id);
      expect(new Set(upgrades.map((u) => u.deviceName)).size).toBe(DEVICES_PER_DIALECT);
      expect(upgrades.every((u) => u.state === 'succeeded' && u.attempt === 1)).toBe(true);
    }
    for (const f of fleets) {
      for (const d of f.devices) {
        // Flashed exactly once on the device, one upgrade with one success on the server.
        expect(d.installs, d.name).toEqual(['2.0.0']);
        const history = await target.api<{ transitions: { fromState: string | null; toState: string }[] }[]>(
          'GET',
          `/api/v1/products/${f.productKey}/devices/${d.name}/upgrades`,
        );
        expect(history.body).toHaveLength(1);
        const moves = history.body[0]!.transitions;
        expect(moves.filter((m) => m.toState === 'succeeded')).toHaveLength(1);
        expect(moves.filter((m) => m.fromState === 'queued' && m.toState === 'notified')).toHaveLength(1);
      }
    }
  });
});
