import type { Dialect } from '@aloft/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  startTestServer,
  TEST_ADMIN_TOKEN,
  type TestServer,
  uniqueProductKey,
} from '../../server/src/testing/test-server.js';
import type { DownloadServedEvent } from '../../server/src/transport/http/download/download-route.js';
import { connectApi } from '../src/api/index.js';
import { Fleet, type FleetOptions } from '../src/simulate/fleet.js';
import { provisionFleet } from '../src/simulate/fleet-provisioning.js';
import { jobDevices, productKeyFor, rollOut, waitOnline } from './simulate-support.js';

const DIALECTS: Dialect[] = ['aliyun', 'tencent', 'iothub'];

describe('Fleet against the embedded server', () => {
  let t: TestServer;
  const served: DownloadServedEvent[] = [];
  const fleets: Fleet[] = [];

  beforeAll(async () => {
    t = await startTestServer({ overrides: { engineTickMs: 50 }, onDownload: (event) => served.push(event) });
  });
  afterEach(async () => {
    for (const fleet of fleets.splice(0)) await fleet.stop();
  });
  afterAll(async () => {
    await t.close();
  });

  /** Registers `count` devices in a fresh product and connects them as a fleet. */
  async function startFleet(
    count: number,
    options: Partial<FleetOptions> & { dialect?: Dialect } = {},
  ): Promise<Fleet> {
    const api = connectApi({ baseUrl: t.server.httpUrl, token: TEST_ADMIN_TOKEN });
    const dialect = options.dialect ?? 'aliyun';
    const { product, devices } = await provisionFleet(api, {
      productKey: productKeyFor(dialect, uniqueProductKey),
      dialect,
      count,
    });
    const fleet = new Fleet({
      brokerUrl: t.mqttUrl,
      product,
      devices,
      installMs: 20,
      retryDelayMs: 20,
      connectRate: 2000,
      seed: 1,
      ...options,
    });
    fleets.push(fleet);
    await fleet.start();
    expect(fleet.snapshot().states.idle).toBe(count);
    await waitOnline(t, product.key, count);
    return fleet;
  }

  for (const dialect of DIALECTS) {
    it(`${dialect}: 30 devices download, verify, install and report the new version`, async () => {
      const fleet = await startFleet(30, { dialect });
      const { jobId } = await rollOut(t, fleet.product.key);
      await fleet.waitUntilIdle({ quietMs: 200, minTasked: 30 });

      const snapshot = fleet.snapshot();
      expect(snapshot.states).toMatchObject({ upgraded: 30, failed: 0 });
      expect(snapshot.bytesDownloaded).toBe(30 * 64 * 1024);
      expect(fleet.devices().every((d) => d.version === '2.0.0')).toBe(true);
      expect(await jobDevices(t, jobId, 'succeeded')).toHaveLength(30);
    });
  }

  it('devices dealt an install failure report install_failed; the others succeed', async () => {
    const fleet = await startFleet(30, { faults: { failInstall: 0.2 } });
    const { jobId } = await rollOut(t, fleet.product.key);
    await fleet.waitUntilIdle({ quietMs: 200, minTasked: 30 });

    const doomed = fleet
      .devices()
      .filter((d) => d.faults.fail === 'install')
      .map((d) => d.name);
    expect(doomed).toHaveLength(6);
    const failed = await jobDevices(t, jobId, 'failed');
    expect(failed.map((row) => row.deviceName).sort()).toEqual(doomed.sort());
    expect(failed.every((row) => row.errorCode === 'install_failed')).toBe(true);
    expect(await jobDevices(t, jobId, 'succeeded')).toHaveLength(24);
    expect(fleet.snapshot().failures).toEqual({ install_failed: 6 });
  });

  it('devices whose download is cut off or corrupted fail with download_failed and verify_failed', async () => {
    const fleet = await startFleet(20, { faults: { failDownload: 0.1, failVerify: 0.15 } });
    const { jobId } = await rollOut(t, fleet.product.key);
    await fleet.waitUntilIdle({ quietMs: 300, minTasked: 20 });

    const planned = new Map(fleet.devices().map((d) => [d.name, d.faults.fail]));
    const failed = await jobDevices(t, jobId, 'failed');
    expect(failed).toHaveLength(5);
    for (const row of failed) {
      expect(row.errorCode).toBe(`${planned.get(row.deviceName)}_failed`);
    }
    expect(fleet.snapshot().failures).toEqual({ download_failed: 2, verify_failed: 3 });
    expect(await jobDevices(t, jobId, 'succeeded')).toHaveLength(15);
  });

  it('devices whose connection drops mid-download resume with a Range request and all succeed', async () => {
    const fleet = await startFleet(30, { faults: { drop: 0.5 } });
    const { jobId, firmwareId } = await rollOut(t, fleet.product.key, { size: 256 * 1024 });
    await fleet.waitUntilIdle({ quietMs: 200, minTasked: 30 });

    expect(fleet.snapshot()).toMatchObject({ drops: 15, resumedDownloads: 15, states: { upgraded: 30 } });
    expect(await jobDevices(t, jobId, 'succeeded')).toHaveLength(30);
    const gets = served.filter((e) => e.firmwareId === String(firmwareId) && e.method === 'GET');
    const resumed = gets.filter((e) => e.range !== undefined && e.range.start > 0);
    expect(resumed).toHaveLength(15);
    expect(resumed.every((e) => e.status === 206 && e.completed)).toBe(true);
    expect(gets).toHaveLength(45);
  });

  it('devices that lose power mid-download come back, get the task again and resume', async () => {
    const fleet = await startFleet(20, { faults: { offline: 0.25 }, offlineMs: 300 });
    const { jobId } = await rollOut(t, fleet.product.key, { size: 256 * 1024 });
    await fleet.waitUntilIdle({ quietMs: 300, minTasked: 20 });

    const snapshot = fleet.snapshot();
    expect(snapshot).toMatchObject({ offlineEpisodes: 5, states: { upgraded: 20 } });
    expect(snapshot.resumedDownloads).toBe(5);
    const returned = fleet.devices().filter((d) => d.faults.offlineAt !== undefined);
    // The task arrived twice: once before the power loss, once re-pushed after the device came back.
    expect(returned.every((d) => d.tasks === 2 && d.resumes === 1)).toBe(true);
    expect(await jobDevices(t, jobId, 'succeeded')).toHaveLength(20);
  });
});
