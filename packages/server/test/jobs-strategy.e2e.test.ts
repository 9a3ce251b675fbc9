import { beforeAll, describe, expect, it } from 'vitest';
import { eventually, serverModes, type TestServer } from '../src/testing/test-server.js';
import type { FleetOptions } from './jobs-fixture.js';
import {
  createJob,
  type Fleet,
  jobDetail,
  jobUpgrades,
  settle,
  waitForJob,
  waitForTasks,
  waitForTold,
  waitForUpgrade,
} from './jobs-fixture.js';
import { useJobsServer } from './jobs-harness.js';
import type { SimDevice } from './sim-device.js';

describe.each(serverModes())('rollout strategy with $name', (mode) => {
  const harness = useJobsServer(mode);
  const fleet = (options: FleetOptions) => harness.fleet(options);
  let t: TestServer;
  beforeAll(() => {
    if (mode.available) t = harness.server;
  });
  const batch = (f: Fleet, strategy: unknown, extra: Record<string, unknown> = {}) =>
    createJob(t, 'batch', { firmwareId: f.firmware.id, allowUnverified: true, strategy, ...extra });

  it.skipIf(!mode.available)('keeps a job scheduled until its start time, then runs it', async () => {
    const f = await fleet({ dialect: 'aliyun', count: 1 });
    await f.bringOnline();
    const startAt = Date.now() + 2500;
    const job = await batch(f, { startAt });
    expect(job).toMatchObject({ state: 'scheduled', startedAt: null });
    await settle(300);
    const tasksWhileScheduled = f.devices[0]!.tasks.length;
    expect((await jobDetail(t, job.id)).state).toBe('scheduled');
    expect(tasksWhileScheduled).toBe(0);

    const running = await waitForJob(t, job.id, (j) => j.state === 'running', 'running');
    expect(running.startedAt).toBeGreaterThanOrEqual(startAt);
    await waitForTasks(f.devices[0]!);
  });

  it.skipIf(!mode.available)('cancels the devices not told by the end time', async () => {
    const f = await fleet({ dialect: 'tencent', count: 3 });
    const [online, offline1, offline2] = f.devices as [SimDevice, SimDevice, SimDevice];
    await f.bringOnline([online]);
    const job = await batch(f, { endAt: Date.now() + 1500 });
    await waitForTasks(online);
    await online.upgradeTo('2.0.0');
    const done = await waitForJob(t, job.id, (j) => j.state === 'completed', 'completed after the end time');
    expect(done.counts).toMatchObject({ succeeded: 1, cancelled: 2, queued: 0 });
    const cancelled = (await jobUpgrades(t, job.id)).filter((u) => u.state === 'cancelled');
    expect(cancelled.map((u) => u.deviceName).sort()).toEqual([offline1.name, offline2.name]);

    // Connecting after the end time brings nothing.
    await f.bringOnline([offline1]);
    await settle(300);
    expect(offline1.tasks).toHaveLength(0);
  });

  it.skipIf(!mode.available)('tells at most maxPerMinute new devices per minute', async () => {
    const f = await fleet({ dialect: 'iothub', count: 5 });
    await f.bringOnline();
    const job = await batch(f, { maxPerMinute: 2 });
    await eventually(
      async () => f.devices.filter((d) => d.tasks.length > 0).length === 2,
      'two devices told',
    );
    // Finishing them frees no rate: the limit counts dispatches, not devices in flight.
    await Promise.all(f.devices.filter((d) => d.tasks.length > 0).map((d) => d.upgradeTo('2.0.0')));
    await waitForJob(t, job.id, (j) => j.counts.succeeded === 2, 'two succeeded');
    await settle(400);
    expect(f.devices.filter((d) => d.tasks.length > 0)).toHaveLength(2);
    expect((await jobDetail(t, job.id)).counts).toMatchObject({ queued: 3, succeeded: 2 });
    await t.api('POST', `/api/v1/jobs/${job.id}/cancel`);
  });

  it.skipIf(!mode.available)('keeps at most maxInFlight devices upgrading at once', async () => {
    const f = await fleet({ dialect: 'aliyun', count: 4 });
    await f.bringOnline();
    const job = await batch(f, { maxInFlight: 1 });
    const finished = new Set<string>();
    for (let round = 1; round <= 4; round++) {
      const current = await eventually(async () => {
        const told = f.devices.filter((d) => d.tasks.length > 0 && !finished.has(d.name));
        return told.length > 0 ? told : undefined;
      }, `device ${round} told`);
      expect(current).toHaveLength(1);
      const detail = await jobDetail(t, job.id);
      expect(detail.counts.notified + detail.counts.downloading + detail.counts.installing).toBe(1);
      await settle(150);
      expect(f.devices.filter((d) => d.tasks.length > 0 && !finished.has(d.name))).toHaveLength(1);
      await current[0]!.upgradeTo('2.0.0');
      finished.add(current[0]!.name);
      await waitForJob(t, job.id, (j) => j.counts.succeeded === round, `${round} succeeded`);
    }
    await waitForJob(t, job.id, (j) => j.state === 'completed', 'completed');
  });

  it.skipIf(!mode.available)('times out a device that makes no progress', async () => {
    const f = await fleet({ dialect: 'tencent', count: 2 });
    await f.bringOnline();
    const [silent, slow] = f.devices as [SimDevice, SimDevice];
    const job = await batch(f, { deviceTimeoutSeconds: 1 });
    await Promise.all([waitForTasks(silent), waitForTasks(slow)]);
    await slow.downloading(10, '2.0.0');
    const timedOut = await waitForUpgrade(
      t,
      job.id,
      silent.name,
      (u) => u.state === 'timed_out',
      'timed out',
    );
    expect(timedOut.errorCode).toBe('timeout');
    const done = await waitForJob(t, job.id, (j) => j.state === 'completed', 'completed');
    expect(done.counts.timed_out).toBe(2);
  });

  it.skipIf(!mode.available)('retries a failed device after the delay, up to the count', async () => {
    const f = await fleet({ dialect: 'iothub', count: 2 });
    await f.bringOnline();
    const [lucky, unlucky] = f.devices as [SimDevice, SimDevice];
    const job = await batch(f, { retries: { count: 1, delaySeconds: 0 } });
    await Promise.all([waitForTold(t, job.id, lucky), waitForTold(t, job.id, unlucky)]);
    await Promise.all([lucky.fail('2.0.0'), unlucky.fail('2.0.0')]);
    // Re-queued and told again, with attempt 2.
    await Promise.all([waitForTasks(lucky, 2), waitForTasks(unlucky, 2)]);
    for (const d of [lucky, unlucky]) {
      await waitForUpgrade(
        t,
        job.id,
        d.name,
        (u) => u.attempt === 2 && u.state === 'notified',
        'second attempt',
      );
    }
    await lucky.upgradeTo('2.0.0');
    await unlucky.fail('2.0.0');
    const done = await waitForJob(t, job.id, (j) => j.state === 'completed', 'completed');
    expect(done.counts).toMatchObject({ succeeded: 1, failed: 1 });
    expect((await jobUpgrades(t, job.id)).map((u) => u.attempt)).toEqual([2, 2]);
    await settle(200);
    expect(unlucky.tasks).toHaveLength(2);
  });

  it.skipIf(!mode.available)('aborts when failures exceed the limit and cancels the rest', async () => {
    const f = await fleet({ dialect: 'aliyun', count: 5 });
    await f.bringOnline();
    const [a, b, c] = f.devices as [SimDevice, SimDevice, SimDevice];
    const job = await batch(f, { maxInFlight: 3, abort: { failurePercent: 50, minFinished: 3 } });
    await Promise.all([a, b, c].map((d) => waitForTold(t, job.id, d)));
    await a.fail('2.0.0');
    await b.fail('2.0.0');
    // Two of two finished failed, but fewer than minFinished have finished: still running.
    await waitForJob(t, job.id, (j) => j.counts.failed === 2, 'two failed');
    await settle(200);
    expect((await jobDetail(t, job.id)).state).toBe('running');
    await c.fail('2.0.0');
    const aborted = await waitForJob(t, job.id, (j) => j.state === 'aborted', 'aborted');
    expect(aborted.reason).toMatch(/3 of 3 finished devices failed/);
    const settled = await waitForJob(
      t,
      job.id,
      (j) => j.counts.queued + j.counts.notified === 0,
      'nothing left active',
    );
    expect(settled.counts).toMatchObject({ failed: 3, cancelled: 2 });
  });

  it.skipIf(!mode.available)(
    'opens the next staged group only when the previous reaches its threshold',
    async () => {
      const f = await fleet({ dialect: 'iothub', count: 12 });
      await f.bringOnline();
      const job = await batch(f, {
        groups: [
          { percent: 50, successThreshold: 100 },
          { percent: 100, successThreshold: 100 },
        ],
      });
      await waitForJob(t, job.id, (j) => j.selected === 12, 'all selected');
      const upgrades = await jobUpgrades(t, job.id);
      const inGroup = (g: number) =>
        upgrades.filter((u) => u.groupIndex === g).map((u) => f.device(u.deviceName));
      const [first, second] = [inGroup(0), inGroup(1)];
      expect(first.length).toBeGreaterThan(0);
      expect(second.length).toBeGreaterThan(0);

      await Promise.all(first.map((d) => waitForTasks(d)));
      // All but one of the first group succeed: below the 100% threshold.
      await Promise.all(first.slice(1).map((d) => d.upgradeTo('2.0.0')));
      await waitForJob(t, job.id, (j) => j.counts.succeeded === first.length - 1, 'first group nearly done');
      await settle(300);
      expect(second.filter((d) => d.tasks.length > 0)).toHaveLength(0);
      expect((await jobDetail(t, job.id)).currentGroup).toBe(0);

      await first[0]!.upgradeTo('2.0.0');
      await Promise.all(second.map((d) => waitForTasks(d)));
      expect((await jobDetail(t, job.id)).currentGroup).toBe(1);
      await Promise.all(second.map((d) => d.upgradeTo('2.0.0')));
      const done = await waitForJob(t, job.id, (j) => j.state === 'completed', 'completed');
      expect(done.counts.succeeded).toBe(12);
    },
  );

  it.skipIf(!mode.available)('refuses invalid strategies with 400 and a clear message', async () => {
    const f = await fleet({ dialect: 'aliyun', count: 1 });
    const refuse = async (strategy: unknown, message: RegExp) => {
      const r = await t.api<{ code: string; message: string }>('POST', '/api/v1/jobs/batch', {
        firmwareId: f.firmware.id,
        allowUnverified: true,
        strategy,
      });
      expect(r.status, JSON.stringify(r.body)).toBe(400);
      expect(r.body.message).toMatch(message);
    };
    await refuse({ maxPerMinute: 0 }, /maxPerMinute must be >= 1/);
    await refuse({ deviceTimeoutSeconds: 0 }, /deviceTimeoutSeconds must be >= 1/);
    await refuse({ endAt: Date.now() - 1000 }, /endAt is in the past/);
    await refuse({ startAt: Date.now() + 60_000, endAt: Date.now() + 30_000 }, /endAt must be after startAt/);
    await refuse({ retries: { count: 11 } }, /retries\.count must be between 0 and 10, got 11/);
    await refuse({ retries: { delaySeconds: -1 } }, /retries\.delaySeconds must be between/);
    await refuse(
      { abort: { failurePercent: 150, minFinished: 1 } },
      /abort\.failurePercent must be between 0 and 100/,
    );
    await refuse({ abort: { failurePercent: 10, minFinished: 0 } }, /abort\.minFinished must be at least 1/);
    await refuse(
      { groups: [{ percent: 50, successThreshold: 90 }] },
      /the last group's percent must be 100, got 50/,
    );
    await refuse(
      {
        groups: [
          { percent: 60, successThreshold: 90 },
          { percent: 40, successThreshold: 90 },
        ],
      },
      /percents are cumulative/,
    );
    await refuse({ bogus: 1 }, /must NOT have additional properties|bogus/);
    // Every problem at once.
    const r = await t.api<{ message: string; details: { errors: string[] } }>('POST', '/api/v1/jobs/batch', {
      firmwareId: f.firmware.id,
      allowUnverified: true,
      strategy: { retries: { count: 99 }, groups: [{ percent: 10, successThreshold: 200 }] },
    });
    expect(r.status).toBe(400);
    expect(r.body.details.errors.length).toBeGreaterThanOrEqual(3);
    expect(
      (await t.api<{ total: number }>('GET', `/api/v1/jobs?productKey=${f.productKey}`)).body.total,
    ).toBe(0);
  });
});
