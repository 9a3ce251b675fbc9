import { beforeAll, describe, expect, it } from 'vitest';
import { serverModes, type TestServer } from '../src/testing/test-server.js';
import type { FleetOptions } from './jobs-fixture.js';
import {
  createJob,
  type Fleet,
  jobDetail,
  jobUpgrades,
  settle,
  upgradeOf,
  waitForJob,
  waitForTasks,
  waitForTold,
  waitForUpgrade,
} from './jobs-fixture.js';
import { useJobsServer } from './jobs-harness.js';
import type { SimDevice } from './sim-device.js';

describe.each(serverModes())('steering jobs with $name', (mode) => {
  const harness = useJobsServer(mode);
  const fleet = (options: FleetOptions) => harness.fleet(options);
  let t: TestServer;
  beforeAll(() => {
    if (mode.available) t = harness.server;
  });
  const batch = (f: Fleet, extra: Record<string, unknown> = {}) =>
    createJob(t, 'batch', { firmwareId: f.firmware.id, allowUnverified: true, ...extra });

  it.skipIf(!mode.available)('cancels a job and every unfinished upgrade of it', async () => {
    const f = await fleet({ dialect: 'aliyun', count: 4 });
    const [done, working, told, offline] = f.devices as [SimDevice, SimDevice, SimDevice, SimDevice];
    await f.bringOnline([done, working, told]);
    const job = await batch(f);
    await Promise.all([done, working, told].map((d) => waitForTold(t, job.id, d)));
    await done.upgradeTo('2.0.0');
    await working.downloading(40, '2.0.0');
    await waitForUpgrade(t, job.id, working.name, (u) => u.state === 'downloading', 'downloading');
    await waitForUpgrade(t, job.id, done.name, (u) => u.state === 'succeeded', 'succeeded');

    const cancelled = await t.api<{ state: string }>('POST', `/api/v1/jobs/${job.id}/cancel`);
    expect(cancelled).toMatchObject({ status: 200, body: { state: 'cancelled' } });
    const detail = await jobDetail(t, job.id);
    expect(detail.counts).toMatchObject({
      succeeded: 1,
      cancelled: 3,
      queued: 0,
      notified: 0,
      downloading: 0,
    });
    expect(detail.finishedAt).not.toBeNull();

    // Late device messages change nothing; a device coming online gets nothing.
    await working.downloading(90, '2.0.0');
    await working.reportVersion('2.0.0');
    await f.bringOnline([offline]);
    await settle(300);
    expect((await upgradeOf(t, job.id, working.name)).state).toBe('cancelled');
    expect(offline.tasks).toHaveLength(0);
    const again = await t.api<{ code: string }>('POST', `/api/v1/jobs/${job.id}/cancel`);
    expect(again).toMatchObject({ status: 409, body: { code: 'ALOFT_JOB_TRANSITION' } });
  });

  it.skipIf(!mode.available)('cancels one device’s upgrade while the others go on', async () => {
    const f = await fleet({ dialect: 'tencent', count: 2 });
    await f.bringOnline();
    const [keep, drop] = f.devices as [SimDevice, SimDevice];
    const job = await batch(f);
    await Promise.all([waitForTasks(keep), waitForTasks(drop)]);
    const target = await upgradeOf(t, job.id, drop.name);
    const cancel = await t.api('POST', `/api/v1/upgrades/${target.id}/cancel`);
    expect(cancel.status).toBe(204);
    expect((await upgradeOf(t, job.id, drop.name)).state).toBe('cancelled');
    const twice = await t.api<{ code: string; message: string }>(
      'POST',
      `/api/v1/upgrades/${target.id}/cancel`,
    );
    expect(twice.status).toBe(400);
    expect(twice.body.message).toMatch(/already cancelled/);
    expect((await t.api('POST', '/api/v1/upgrades/999999/cancel')).status).toBe(404);

    await drop.upgradeTo('2.0.0');
    await keep.upgradeTo('2.0.0');
    const finished = await waitForJob(t, job.id, (j) => j.state === 'completed', 'completed');
    expect(finished.counts).toMatchObject({ succeeded: 1, cancelled: 1 });
  });

  it.skipIf(!mode.available)('finishes a cancel the server stopped halfway through', async () => {
    const f = await fleet({ dialect: 'iothub', count: 2 });
    const [told, offline] = f.devices as [SimDevice, SimDevice];
    await f.bringOnline([told]);
    const job = await createJob(t, 'verify', { firmwareId: f.firmware.id, deviceNames: f.names });
    await waitForTasks(told);
    // The first of JobService.cancel's writes only, as if the server died right after it.
    await t.server.store.db
      .updateTable('jobs')
      .set({ state: 'cancelled' })
      .where('id', '=', job.id)
      .execute();

    const swept = await waitForJob(
      t,
      job.id,
      (j) => j.counts.cancelled === 2,
      'the engine to cancel the upgrades left active',
    );
    expect(swept.state).toBe('cancelled');
    const firmware = await t.api<{ verifyState: string }>('GET', `/api/v1/firmware/${f.firmware.id}`);
    expect(firmware.body.verifyState).toBe('unverified');
    // The devices are free for the next job.
    await createJob(t, 'verify', { firmwareId: f.firmware.id, deviceNames: [told.name, offline.name] });
    await waitForTasks(told, 2);
  });

  it.skipIf(!mode.available)(
    'pauses dispatching while devices already told finish, and resumes',
    async () => {
      const f = await fleet({ dialect: 'iothub', count: 3 });
      const [told, late, silent] = f.devices as [SimDevice, SimDevice, SimDevice];
      await f.bringOnline([told]);
      const job = await batch(f, { strategy: { deviceTimeoutSeconds: 2 } });
      await waitForTasks(told);

      const paused = await t.api<{ state: string }>('POST', `/api/v1/jobs/${job.id}/pause`);
      expect(paused).toMatchObject({ status: 200, body: { state: 'paused' } });
      // Pausing twice is harmless.
      expect((await t.api<{ state: string }>('POST', `/api/v1/jobs/${job.id}/pause`)).body.state).toBe(
        'paused',
      );
      await f.bringOnline([late]);
      await settle(300);
      expect(late.tasks).toHaveLength(0);
      await told.upgradeTo('2.0.0');
      await waitForUpgrade(t, job.id, told.name, (u) => u.state === 'succeeded', 'succeeded while paused');
      expect((await jobDetail(t, job.id)).state).toBe('paused');

      const resumed = await t.api<{ state: string }>('POST', `/api/v1/jobs/${job.id}/resume`);
      expect(resumed).toMatchObject({ status: 200, body: { state: 'running' } });
      await waitForTasks(late);
      await late.upgradeTo('2.0.0');

      // A device told before a pause still times out during it, and the job can finish while paused.
      await f.bringOnline([silent]);
      await waitForTasks(silent);
      expect((await t.api('POST', `/api/v1/jobs/${job.id}/pause`)).status).toBe(200);
      const finished = await waitForJob(t, job.id, (j) => j.state === 'completed', 'completed while paused');
      expect(finished.counts).toMatchObject({ succeeded: 2, timed_out: 1 });
      const refused = await t.api<{ code: string }>('POST', `/api/v1/jobs/${job.id}/resume`);
      expect(refused).toMatchObject({ status: 409, body: { code: 'ALOFT_JOB_TRANSITION' } });
    },
  );

  it.skipIf(!mode.available)(
    'allows one active upgrade per device and module unless superseded',
    async () => {
      const f = await fleet({ dialect: 'aliyun', count: 2 });
      await f.bringOnline();
      const [device, other] = f.devices as [SimDevice, SimDevice];
      const first = await createJob(t, 'single', { firmwareId: f.firmware.id, deviceName: device.name });
      await waitForTasks(device);

      const newer = await f.upload('2.1.0');
      const conflict = await t.api<{ code: string; details: { upgradeId: number; jobId: number } }>(
        'POST',
        '/api/v1/jobs/single',
        { firmwareId: newer.id, deviceName: device.name },
      );
      expect(conflict.status).toBe(409);
      expect(conflict.body.code).toBe('ALOFT_UPGRADE_CONFLICT');
      expect(conflict.body.details.jobId).toBe(first.id);

      // A batch leaves the busy device out and counts it.
      const busy = await batch(f, { firmwareId: newer.id });
      const counted = await waitForJob(t, busy.id, (j) => j.selected === 1, 'one selected');
      expect(counted).toMatchObject({ selected: 1, conflicts: 1 });
      expect((await jobUpgrades(t, busy.id)).map((u) => u.deviceName)).toEqual([other.name]);
      await waitForTasks(other);
      await other.upgradeTo('2.1.0');

      const superseding = await createJob(t, 'single', {
        firmwareId: newer.id,
        deviceName: device.name,
        supersede: true,
      });
      await waitForTasks(device, 2);
      expect(device.lastTask().version).toBe('2.1.0');
      const old = await upgradeOf(t, first.id, device.name);
      expect(old.state).toBe('cancelled');
      const history = await t.api<
        { jobId: number; transitions: { toState: string; message: string | null }[] }[]
      >('GET', `/api/v1/products/${f.productKey}/devices/${device.name}/upgrades`);
      const oldHistory = history.body.find((u) => u.jobId === first.id)!;
      expect(oldHistory.transitions.at(-1)).toMatchObject({
        toState: 'cancelled',
        message: `superseded by job ${superseding.id}`,
      });
      await waitForJob(t, first.id, (j) => j.state === 'completed', 'superseded job completed');
      await device.upgradeTo('2.1.0');
      await waitForJob(t, superseding.id, (j) => j.state === 'completed', 'superseding job completed');
      expect((await upgradeOf(t, superseding.id, device.name)).state).toBe('succeeded');
    },
  );
});
