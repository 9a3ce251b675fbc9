import { beforeAll, describe, expect, it } from 'vitest';
import { eventually, serverModes, type TestServer } from '../src/testing/test-server.js';
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
import { SIM_DIALECTS, type SimDevice, type SimDialect } from './sim-device.js';

/** What each dialect's failure report (SimDevice.fail) means once decoded. */
const FAILURE_CODE: Record<SimDialect, string> = {
  aliyun: 'download_failed',
  // Tencent -1 is "download timeout"; the C SDK's "time_out" message is not trusted.
  tencent: 'timeout',
  iothub: 'download_failed',
};

describe.each(serverModes())('the device side of upgrades with $name', (mode) => {
  const harness = useJobsServer(mode);
  const fleet = (options: FleetOptions) => harness.fleet(options);
  let t: TestServer;
  beforeAll(() => {
    if (mode.available) t = harness.server;
  });
  const batch = (f: Fleet, extra: Record<string, unknown> = {}) =>
    createJob(t, 'batch', { firmwareId: f.firmware.id, allowUnverified: true, ...extra });

  for (const dialect of SIM_DIALECTS) {
    it.skipIf(!mode.available)(
      `keeps a never-seen ${dialect} device queued until it connects, then upgrades it`,
      async () => {
        const f = await fleet({ dialect, count: 1 });
        const device = f.devices[0]!;
        const job = await createJob(t, 'single', { firmwareId: f.firmware.id, deviceName: device.name });
        await waitForJob(t, job.id, (j) => j.selected === 1, 'enrolled');
        await settle(300);
        expect((await jobDetail(t, job.id)).counts.queued).toBe(1);

        // It connects and reports the version it runs (unknown when it was selected: that becomes its source).
        await f.bringOnline();
        await waitForTasks(device);
        // The version report may be applied just after the dispatch (the device is online once it is written).
        await waitForUpgrade(
          t,
          job.id,
          device.name,
          (u) => u.state === 'notified' && u.sourceVersion === '1.0.0',
          'told, with the version it runs as its source',
        );
        expect((await fetch(device.lastTask().url)).status).toBe(200);
        await device.upgradeTo('2.0.0');
        await waitForJob(t, job.id, (j) => j.state === 'completed' && j.counts.succeeded === 1, 'succeeded');
      },
    );

    it.skipIf(!mode.available)(
      `re-pushes a ${dialect} task with a fresh URL when the device reconnects or reports its old version`,
      async () => {
        const f = await fleet({ dialect, count: 1 });
        const device = f.devices[0]!;
        // Persistent on the embedded broker, so the re-push sent as it reconnects does not race its SUBSCRIBE.
        const persistent = mode.broker === 'embedded';
        await device.connect({ persistent });
        await device.reportVersion('1.0.0');
        await f.waitReported([device], '1.0.0');
        const job = await createJob(t, 'single', { firmwareId: f.firmware.id, deviceName: device.name });
        const [first] = await waitForTasks(device);
        const nextSecond = async (url: string) => {
          // URLs are signed to the second: let a second pass so a fresh one must differ.
          const issued = Number(new URL(url).searchParams.get('expires')) - t.config.downloadUrlTtlSeconds;
          await eventually(async () => Math.floor(Date.now() / 1000) > issued, 'the next second');
        };
        const expectFresh = async (before: string) => {
          const fresh = new URL(device.lastTask().url);
          const old = new URL(before);
          expect(fresh.pathname).toBe(old.pathname);
          expect(fresh.searchParams.get('expires')).not.toBe(old.searchParams.get('expires'));
          expect(fresh.searchParams.get('sig')).not.toBe(old.searchParams.get('sig'));
          expect((await fetch(fresh)).status).toBe(200);
        };
        await nextSecond(first!.url);

        // Told but silent, it reconnects. The embedded broker sees the connect and tells it again at once;
        // behind an external broker the server only learns of it from its next message.
        await device.disconnect();
        await device.connect({ persistent });
        if (mode.broker === 'embedded') {
          await waitForTasks(device, 2);
          await expectFresh(first!.url);
        }
        await device.downloading(20, '2.0.0');
        await waitForUpgrade(t, job.id, device.name, (u) => u.state === 'downloading', 'downloading');
        const previous = device.lastTask().url;
        await nextSecond(previous);

        // Mid-download it reboots and reports the version it still runs (the Tencent resumable flow).
        await device.disconnect();
        await device.connect({ persistent });
        const before = device.tasks.length;
        await device.reportVersion('1.0.0');
        await waitForTasks(device, before + 1);
        await expectFresh(previous);
        // Reporting the old version mid-upgrade is a reconnect, not a failure; progress is kept.
        const upgrade = await upgradeOf(t, job.id, device.name);
        expect(upgrade).toMatchObject({ state: 'downloading', percent: 20 });
        await device.upgradeTo('2.0.0');
        await waitForJob(t, job.id, (j) => j.counts.succeeded === 1, 'succeeded');
      },
    );

    it.skipIf(!mode.available)(
      `applies ${dialect} progress forward only, and succeeds only on the target version`,
      async () => {
        const f = await fleet({ dialect, count: 1 });
        const device = f.devices[0]!;
        await f.bringOnline();
        const job = await createJob(t, 'single', { firmwareId: f.firmware.id, deviceName: device.name });
        await waitForTold(t, job.id, device);
        const at = (check: Parameters<typeof waitForUpgrade>[3], what: string) =>
          waitForUpgrade(t, job.id, device.name, check, what);

        await device.downloading(30, '2.0.0');
        await at((u) => u.state === 'downloading' && u.percent === 30, 'downloading 30');
        await device.downloading(60, '2.0.0');
        await at((u) => u.percent === 60, 'downloading 60');
        // A duplicate and a late message, then something newer to know they were processed.
        await device.downloading(60, '2.0.0');
        await device.downloading(30, '2.0.0');
        await device.downloading(70, '2.0.0');
        await at((u) => u.percent === 70, 'downloading 70');
        await device.installing('2.0.0');
        const installing =
          dialect === 'tencent'
            ? await at((u) => u.state === 'installing' && u.phase === 'installing', 'installing')
            : await at((u) => u.percent === 100, 'downloaded');
        await device.downloading(50, '2.0.0');
        await device.done('2.0.0');
        await settle(200);
        // 100% (and Tencent's "done") proves nothing.
        expect(await upgradeOf(t, job.id, device.name)).toMatchObject({
          state: installing.state,
          phase: installing.phase,
          percent: 100,
        });

        await device.reportVersion('2.0.0');
        await at((u) => u.state === 'succeeded', 'succeeded');
        await device.fail('2.0.0');
        await device.downloading(10, '2.0.0');
        await settle(200);
        expect((await upgradeOf(t, job.id, device.name)).state).toBe('succeeded');

        const history = await t.api<
          { transitions: { toState: string; phase: string | null; percent: number | null }[] }[]
        >('GET', `/api/v1/products/${f.productKey}/devices/${device.name}/upgrades`);
        // Never backwards: phases in order, percents rising within a phase.
        const PHASES = [null, 'downloading', 'verifying', 'installing'];
        const progress = history.body[0]!.transitions.map(
          (tr) => PHASES.indexOf(tr.phase) * 1000 + (tr.percent ?? 0),
        );
        expect(progress).toEqual([...progress].sort((a, b) => a - b));
        expect(history.body[0]!.transitions.map((tr) => tr.toState).at(-1)).toBe('succeeded');
      },
    );

    it.skipIf(!mode.available)(
      `fails a ${dialect} upgrade on an error report or on a version that is neither source nor target`,
      async () => {
        const f = await fleet({ dialect, count: 2 });
        await f.bringOnline();
        const [erring, strange] = f.devices as [SimDevice, SimDevice];
        const job = await batch(f);
        await Promise.all([waitForTold(t, job.id, erring), waitForTold(t, job.id, strange)]);
        await erring.downloading(5, '2.0.0');
        await erring.fail('2.0.0');
        const failed = await waitForUpgrade(t, job.id, erring.name, (u) => u.state === 'failed', 'failed');
        expect(failed.errorCode).toBe(FAILURE_CODE[dialect]);

        await strange.downloading(50, '2.0.0');
        await strange.reportVersion('1.5.0');
        const other = await waitForUpgrade(t, job.id, strange.name, (u) => u.state === 'failed', 'failed');
        expect(other.errorMessage).toMatch(/1\.5\.0/);
        await waitForJob(t, job.id, (j) => j.state === 'completed', 'completed');
      },
    );
  }

  it.skipIf(!mode.available)('times out a device stuck at 100% without reporting its version', async () => {
    const f = await fleet({ dialect: 'tencent', count: 1 });
    const device = f.devices[0]!;
    await f.bringOnline();
    const job = await batch(f, { strategy: { deviceTimeoutSeconds: 1 } });
    await waitForTasks(device);
    await device.downloading(100, '2.0.0');
    await device.done('2.0.0');
    await waitForUpgrade(t, job.id, device.name, (u) => u.percent === 100, '100%');
    const timedOut = await waitForUpgrade(
      t,
      job.id,
      device.name,
      (u) => u.state === 'timed_out',
      'timed out',
    );
    expect(timedOut.errorCode).toBe('timeout');
  });

  it.skipIf(!mode.available)('answers an Aliyun firmware/get with the task, or with empty data', async () => {
    const f = await fleet({ dialect: 'aliyun', count: 8 });
    await f.bringOnline();
    const [idle] = f.devices as [SimDevice];
    // Nothing pending.
    await idle.pull();
    await eventually(async () => idle.replies.length === 1, 'the empty reply');
    expect(idle.replies[0]).toEqual({ code: 200, data: {} });

    // A staged rollout: a device whose group is not open yet hears "nothing pending".
    const job = await batch(f, {
      strategy: {
        groups: [
          { percent: 40, successThreshold: 100 },
          { percent: 100, successThreshold: 100 },
        ],
      },
    });
    await waitForJob(t, job.id, (j) => j.selected === 8, 'enrolled');
    const upgrades = await jobUpgrades(t, job.id);
    const first = upgrades.filter((u) => u.groupIndex === 0).map((u) => f.device(u.deviceName));
    const later = upgrades.filter((u) => u.groupIndex === 1).map((u) => f.device(u.deviceName));
    expect(first.length).toBeGreaterThan(0);
    expect(later.length).toBeGreaterThan(0);
    await Promise.all(first.map((d) => waitForTasks(d)));

    const waiting = later[0]!;
    const repliesBefore = waiting.replies.length;
    await waiting.pull();
    await eventually(async () => waiting.replies.length > repliesBefore, 'the reply');
    expect(waiting.replies.at(-1)).toEqual({ code: 200, data: {} });
    expect((await upgradeOf(t, job.id, waiting.name)).state).toBe('queued');

    // A device already told gets its task again, with a URL that works.
    const told = first[0]!;
    await told.pull();
    await eventually(async () => told.tasks.some((task) => task.via === 'pull'), 'the pulled task');
    const pulled = told.tasks.find((task) => task.via === 'pull')!;
    expect(told.replies.at(-1)!.code).toBe(200);
    expect(pulled.version).toBe('2.0.0');
    expect((await fetch(pulled.url)).status).toBe(200);
    await t.api('POST', `/api/v1/jobs/${job.id}/cancel`);
  });

  it.skipIf(!mode.available)(
    'enrols devices that report a matching source version later (dynamic)',
    async () => {
      const f = await fleet({ dialect: 'iothub', count: 4 });
      const [early, climber, newcomer, stranger] = f.devices as [SimDevice, SimDevice, SimDevice, SimDevice];
      await f.bringOnline([early]);
      await f.bringOnline([climber], '0.9.0');
      const job = await batch(f, { dynamic: true, targets: { sourceVersions: ['1.0.0'] } });
      await waitForTasks(early);
      expect((await jobDetail(t, job.id)).selected).toBe(1);

      // The climber reaches 1.0.0 by other means, the newcomer shows up on 1.0.0, the stranger on 3.0.0.
      await climber.reportVersion('1.0.0');
      await f.bringOnline([newcomer]);
      await f.bringOnline([stranger], '3.0.0');
      await Promise.all([waitForTasks(climber), waitForTasks(newcomer)]);
      await waitForJob(t, job.id, (j) => j.selected === 3, 'three enrolled');
      await Promise.all([early, climber, newcomer].map((d) => d.upgradeTo('2.0.0')));
      const detail = await waitForJob(t, job.id, (j) => j.counts.succeeded === 3, 'three succeeded');
      // A dynamic job without an end time keeps running for devices yet to come.
      expect(detail.state).toBe('running');
      expect(detail.total).toBe(3);
      expect(stranger.tasks).toHaveLength(0);
      await t.api('POST', `/api/v1/jobs/${job.id}/cancel`);
    },
  );
});
