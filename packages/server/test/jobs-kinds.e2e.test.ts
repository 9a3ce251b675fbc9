import { beforeAll, describe, expect, it } from 'vitest';
import { inGrayRelease } from '../src/domain/index.js';
import { serverModes, TEST_ADMIN_TOKEN, type TestServer } from '../src/testing/test-server.js';
import type { FleetOptions } from './jobs-fixture.js';
import {
  createJob,
  type FirmwareView,
  type Fleet,
  jobUpgrades,
  waitForJob,
  waitForTasks,
  waitForTold,
} from './jobs-fixture.js';
import { useJobsServer } from './jobs-harness.js';
import { SIM_DIALECTS } from './sim-device.js';

describe.each(serverModes())('job kinds with $name', (mode) => {
  const harness = useJobsServer(mode);
  const fleet = (options: FleetOptions) => harness.fleet(options);
  let t: TestServer;
  beforeAll(() => {
    if (mode.available) t = harness.server;
  });

  for (const dialect of SIM_DIALECTS) {
    it.skipIf(!mode.available)(
      `upgrades one ${dialect} device with a single job, succeeding on its version report`,
      async () => {
        const f = await fleet({ dialect, count: 1 });
        const [device] = f.devices;
        await f.bringOnline();
        const job = await createJob(t, 'single', { firmwareId: f.firmware.id, deviceName: device!.name });
        expect(job).toMatchObject({ kind: 'single', state: 'running', targetVersion: '2.0.0' });

        await waitForTold(t, job.id, device!);
        const [task] = device!.tasks;
        expect(task).toMatchObject({ via: 'push', version: '2.0.0' });
        // The pushed URL downloads the package.
        const download = await fetch(task!.url);
        expect(download.status).toBe(200);
        expect((await download.arrayBuffer()).byteLength).toBe(f.firmware.size);

        await device!.upgradeTo('2.0.0');
        const done = await waitForJob(t, job.id, (j) => j.state === 'completed', 'completed');
        expect(done.counts.succeeded).toBe(1);
        expect(done.total).toBe(1);
        const status = await t.api<{ currentVersion: string; upgrade: { state: string } }>(
          'GET',
          `/api/v1/products/${f.productKey}/devices/${device!.name}/upgrade?module=${f.firmware.module}`,
        );
        expect(status.body).toMatchObject({ currentVersion: '2.0.0', upgrade: { state: 'succeeded' } });
        const history = await t.api<{ state: string; transitions: { toState: string }[] }[]>(
          'GET',
          `/api/v1/products/${f.productKey}/devices/${device!.name}/upgrades`,
        );
        expect(history.body[0]!.transitions.map((tr) => tr.toState)).toEqual([
          'queued',
          'notified',
          'downloading',
          'downloading',
          ...(dialect === 'tencent' ? ['installing'] : []),
          'succeeded',
        ]);
      },
    );
  }

  it.skipIf(!mode.available)('verifies a package when every test device succeeds', async () => {
    const f = await fleet({ dialect: 'iothub', count: 3 });
    await f.bringOnline();
    const [a, b] = f.devices;
    const job = await createJob(t, 'verify', { firmwareId: f.firmware.id, deviceNames: [a!.name, b!.name] });
    expect(job.kind).toBe('verify');
    expect((await firmware(f.firmware.id)).verifyState).toBe('verifying');
    await Promise.all([waitForTasks(a!), waitForTasks(b!)]);
    await Promise.all([a!.upgradeTo('2.0.0'), b!.upgradeTo('2.0.0')]);
    await waitForJob(t, job.id, (j) => j.state === 'completed', 'completed');
    expect(await firmware(f.firmware.id)).toMatchObject({ verifyState: 'verified' });
    // The third device was not a test device.
    expect(f.devices[2]!.tasks).toHaveLength(0);
    // A verified package rolls out without allowUnverified.
    const batch = await t.api('POST', '/api/v1/jobs/batch', { firmwareId: f.firmware.id });
    expect(batch.status).toBe(201);
  });

  it.skipIf(!mode.available)('marks a package verify_failed when a test device fails', async () => {
    const f = await fleet({ dialect: 'aliyun', count: 2 });
    await f.bringOnline();
    const [a, b] = f.devices;
    const job = await createJob(t, 'verify', { firmwareId: f.firmware.id, deviceNames: f.names });
    await Promise.all([waitForTold(t, job.id, a!), waitForTold(t, job.id, b!)]);
    await a!.upgradeTo('2.0.0');
    await b!.fail('2.0.0');
    const done = await waitForJob(t, job.id, (j) => j.state === 'completed', 'completed');
    expect(done.counts).toMatchObject({ succeeded: 1, failed: 1 });
    expect(await firmware(f.firmware.id)).toMatchObject({ verifyState: 'verify_failed' });
    const refused = await t.api<{ code: string }>('POST', '/api/v1/jobs/batch', {
      firmwareId: f.firmware.id,
    });
    expect(refused).toMatchObject({ status: 409, body: { code: 'ALOFT_FIRMWARE_UNVERIFIED' } });
  });

  it.skipIf(!mode.available)(
    'rolls a batch out to the devices its targets select, skipping those already on the target',
    async () => {
      // 1-2: 1.0.0 beta, 3-4: 1.1.0 beta, 5: 2.0.0 beta (already on target), 6: 1.0.0 untagged.
      const f = await fleet({ dialect: 'tencent', count: 6, tags: (i) => (i < 5 ? ['beta'] : ['prod']) });
      const [d1, d2, d3, d4, d5, d6] = f.devices as [SimDev, SimDev, SimDev, SimDev, SimDev, SimDev];
      await f.bringOnline([d1, d2, d6], '1.0.0');
      await f.bringOnline([d3, d4], '1.1.0');
      await f.bringOnline([d5], '2.0.0');

      const refused = await t.api<{ code: string; message: string }>('POST', '/api/v1/jobs/batch', {
        firmwareId: f.firmware.id,
      });
      expect(refused.status).toBe(409);
      expect(refused.body.code).toBe('ALOFT_FIRMWARE_UNVERIFIED');
      expect(refused.body.message).toMatch(/allowUnverified/);

      const byVersion = await createJob(t, 'batch', {
        firmwareId: f.firmware.id,
        targets: { tags: ['beta'], sourceVersions: ['1.1.0'] },
        allowUnverified: true,
      });
      await waitForJob(t, byVersion.id, (j) => j.selected === 2 && j.total === 2, 'two devices selected');
      expect((await jobUpgrades(t, byVersion.id)).map((u) => u.deviceName).sort()).toEqual([
        d3.name,
        d4.name,
      ]);
      await Promise.all([waitForTasks(d3), waitForTasks(d4)]);
      await Promise.all([d3.upgradeTo('2.0.0'), d4.upgradeTo('2.0.0')]);
      const first = await waitForJob(t, byVersion.id, (j) => j.state === 'completed', 'completed');
      expect(first).toMatchObject({ selected: 2, skipped: 0, conflicts: 0 });

      const byTag = await createJob(t, 'batch', {
        firmwareId: f.firmware.id,
        targets: { tags: ['beta'] },
        allowUnverified: true,
      });
      // d3, d4 (upgraded meanwhile) and d5 are on the target: skipped; d6 is untagged.
      const second = await waitForJob(
        t,
        byTag.id,
        (j) => j.selected === 2 && j.total === 2,
        'two devices selected',
      );
      expect(second).toMatchObject({ selected: 2, skipped: 3, conflicts: 0 });
      expect((await jobUpgrades(t, byTag.id)).map((u) => u.deviceName).sort()).toEqual([d1.name, d2.name]);
      await Promise.all([waitForTasks(d1), waitForTasks(d2)]);
      expect(d6.tasks).toHaveLength(0);
      expect(d5.tasks).toHaveLength(0);
    },
  );

  it.skipIf(!mode.available)('selects a stable gray-release percentage of the devices', async () => {
    const f = await fleet({ dialect: 'aliyun', count: 30 });
    const job = await createJob(t, 'batch', {
      firmwareId: f.firmware.id,
      targets: { percent: 40 },
      allowUnverified: true,
    });
    const list = await t.api<{ items: { id: number; name: string }[] }>(
      'GET',
      `/api/v1/products/${f.productKey}/devices?limit=1000`,
    );
    const expected = list.body.items
      .filter((d) => inGrayRelease(job.id, d.id, 40))
      .map((d) => d.name)
      .sort();
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(30);
    const selected = await waitForJob(
      t,
      job.id,
      (j) => j.selected === expected.length && j.total === expected.length,
      'the gray release',
    );
    expect(selected.selected).toBe(expected.length);
    expect((await jobUpgrades(t, job.id)).map((u) => u.deviceName).sort()).toEqual(expected);
    // Offline devices stay queued.
    expect(selected.counts.queued).toBe(expected.length);
    await t.api('POST', `/api/v1/jobs/${job.id}/cancel`);
  });

  it.skipIf(!mode.available)('rolls out to an uploaded device list (plain text and CSV)', async () => {
    const f = await fleet({ dialect: 'iothub', count: 5 });
    await f.bringOnline();
    const [d1, d2, d3, d4] = f.devices as SimDev[];
    const text = await postDeviceList(
      f.firmware,
      `${d1!.name}\r\n\n ${d2!.name} \n${d1!.name}\nnobody\n`,
      'text/plain',
    );
    expect(text.status, JSON.stringify(text.body)).toBe(201);
    const listed = await waitForJob(
      t,
      text.body.id,
      (j) => j.selected === 2 && j.total === 2,
      'two listed devices',
    );
    expect(listed.selected).toBe(2);
    await Promise.all([waitForTasks(d1!), waitForTasks(d2!)]);

    const csv = await postDeviceList(f.firmware, `tag,name\nx,${d3!.name}\ny,${d4!.name}\n`, 'text/csv');
    expect(csv.status, JSON.stringify(csv.body)).toBe(201);
    await waitForJob(t, csv.body.id, (j) => j.selected === 2 && j.total === 2, 'two CSV devices');
    await Promise.all([waitForTasks(d3!), waitForTasks(d4!)]);
    expect(f.devices[4]!.tasks).toHaveLength(0);

    const unverified = await postDeviceList(f.firmware, d1!.name, 'text/plain', false);
    expect(unverified.status).toBe(409);
  });

  it.skipIf(!mode.available)('re-upgrades the failed devices of a job with a retry job', async () => {
    const f = await fleet({ dialect: 'tencent', count: 3 });
    await f.bringOnline();
    const [d1, d2, d3] = f.devices as [SimDev, SimDev, SimDev];
    const job = await createJob(t, 'batch', { firmwareId: f.firmware.id, allowUnverified: true });
    await Promise.all(f.devices.map((d) => waitForTold(t, job.id, d)));
    await d1.upgradeTo('2.0.0');
    await d2.fail('2.0.0');
    await d3.downloading(10, '2.0.0');
    await d3.fail('2.0.0');
    const finished = await waitForJob(t, job.id, (j) => j.state === 'completed', 'completed');
    expect(finished.counts).toMatchObject({ succeeded: 1, failed: 2 });

    const retry = await createJob(t, `${job.id}/retry`, {});
    expect(retry).toMatchObject({ kind: 'retry', state: 'running' });
    await Promise.all([waitForTasks(d2, 2), waitForTasks(d3, 2)]);
    expect(d1.tasks).toHaveLength(1);
    await Promise.all([d2.upgradeTo('2.0.0'), d3.upgradeTo('2.0.0')]);
    const retried = await waitForJob(t, retry.id, (j) => j.state === 'completed', 'retry completed');
    expect(retried).toMatchObject({ selected: 2, counts: expect.objectContaining({ succeeded: 2 }) });
    expect(retried.total).toBe(2);

    const none = await t.api<{ code: string }>('POST', `/api/v1/jobs/${retry.id}/retry`, {});
    expect(none).toMatchObject({ status: 400, body: { code: 'ALOFT_JOB_INVALID' } });
  });

  async function firmware(id: number): Promise<FirmwareView> {
    return (await t.api<FirmwareView>('GET', `/api/v1/firmware/${id}`)).body;
  }

  async function postDeviceList(
    fw: FirmwareView,
    body: string,
    contentType: string,
    allowUnverified = true,
  ): Promise<{ status: number; body: { id: number } }> {
    const response = await fetch(
      `${t.server.httpUrl}/api/v1/jobs/batch/device-list?firmwareId=${fw.id}&allowUnverified=${allowUnverified}`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': contentType },
        body,
      },
    );
    return { status: response.status, body: (await response.json()) as { id: number } };
  }
});

type SimDev = Fleet['devices'][number];
