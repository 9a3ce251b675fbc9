import { createHash, randomBytes } from 'node:crypto';
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type OtaDevice as Device,
  OtaDevice,
  type OtaDeviceEvents,
  type OtaDeviceOptions,
} from '@aloft/device';
import type { Dialect, UpgradeTask } from '@aloft/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  eventually,
  serverModes,
  startTestServer,
  type TestServer,
} from '../../server/src/testing/test-server.js';
import type { DownloadServedEvent } from '../../server/src/transport/http/download/download-route.js';
import { type FlakyLink, startFlakyLink } from './support/flaky-link.js';
import {
  createFleetDevice,
  type FleetDevice,
  jobCounts,
  startSingleJob,
  upgradeEnds,
  upgradeOf,
  uploadFirmware,
  waitOnline,
} from './support/fleet.js';

/** The module each dialect's tests upgrade: Aliyun a named one, Tencent the only one it has, IotHub a `type`. */
const MODULE: Record<Dialect, string> = { aliyun: 'MCU', tencent: 'default', iothub: 'firmware' };
const DIALECTS: Dialect[] = ['aliyun', 'tencent', 'iothub'];

/** Resolves with the arguments of the device's next `event`. */
function next<K extends keyof OtaDeviceEvents>(device: Device, event: K): Promise<OtaDeviceEvents[K]> {
  return new Promise((resolve) => {
    const emitter = device as unknown as {
      once(name: string, listener: (...args: OtaDeviceEvents[K]) => void): void;
    };
    emitter.once(event, (...args) => resolve(args));
  });
}

/** An installer that keeps what it was given. */
function recordingInstaller(reboot = false) {
  const installed: Buffer[] = [];
  return {
    installed,
    reboot,
    async install(file: string) {
      installed.push(await readFile(file));
    },
  };
}

const md5 = (bytes: Uint8Array) => createHash('md5').update(bytes).digest('hex');
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe.each(serverModes())('OtaDevice end to end with $name', (mode) => {
  let t: TestServer;
  /** The device's network: HTTP downloads and MQTT each go through a link a test can cut. */
  let web: FlakyLink;
  let net: FlakyLink;
  const served: DownloadServedEvent[] = [];
  const devices: OtaDevice[] = [];
  const cleanups: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    if (!mode.available) return;
    web = await startFlakyLink();
    net = await startFlakyLink();
    t = await startTestServer({
      store: mode.store,
      broker: mode.broker,
      onDownload: (event) => served.push(event),
      // Signed download URLs point at the link, so the device downloads through it.
      overrides: { publicUrl: web.url('http') },
    });
    const http = new URL(t.server.httpUrl);
    web.setTarget(http.hostname, Number(http.port));
    const broker = new URL(t.mqttUrl);
    net.setTarget(broker.hostname, Number(broker.port || 1883));
  });
  afterEach(async () => {
    for (const device of devices.splice(0)) await device.close();
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });
  afterAll(async () => {
    if (!mode.available) return;
    await t.close();
    await web.close();
    await net.close();
  });

  async function dataDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'aloft-device-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    return dir;
  }

  /** A device of `d`, running version 1.0.0 of the test module, connected through the cuttable links. */
  async function deviceFor(
    d: FleetDevice,
    options: Partial<OtaDeviceOptions> = {},
    dir?: string,
  ): Promise<OtaDevice> {
    const module = MODULE[d.dialect];
    const device = new OtaDevice({
      brokerUrl: net.url('mqtt'),
      productKey: d.productKey,
      deviceName: d.deviceName,
      secret: d.secret,
      dialect: d.dialect,
      modules: d.dialect === 'aliyun' ? { default: '1.0.0', [module]: '1.0.0' } : { [module]: '1.0.0' },
      dataDir: dir ?? (await dataDir()),
      ...(d.signingPublicKey ? { publicKey: d.signingPublicKey } : {}),
      mqtt: { reconnectPeriod: 100 },
      ...options,
    });
    devices.push(device);
    return device;
  }

  /**
   * The GETs the server answered for a package, once it has seen `count` of them: the server learns that a
   * response ended a moment after the device read its last byte.
   */
  const downloadsOf = (firmwareId: number, count: number) =>
    eventually(async () => {
      const gets = served.filter((e) => e.firmwareId === String(firmwareId) && e.method === 'GET');
      return gets.length >= count ? gets : undefined;
    }, `${count} downloads of firmware ${firmwareId}`);

  for (const dialect of DIALECTS) {
    const module = MODULE[dialect];

    it.skipIf(!mode.available)(
      `${dialect}: downloads, verifies, installs and reports the new version; the job succeeds`,
      async () => {
        const d = await createFleetDevice(t, dialect, { signing: dialect !== 'tencent' });
        const image = randomBytes(300 * 1024);
        const firmware = await uploadFirmware(t, d.productKey, { version: '2.0.0', module }, image);
        const installer = recordingInstaller();
        const device = await deviceFor(d, { autoUpdate: installer });
        const tasks: UpgradeTask[] = [];
        device.on('upgrade', (task) => tasks.push(task));
        const updated = next(device, 'updated');

        await device.connect();
        await waitOnline(t, d);
        const jobId = await startSingleJob(t, firmware.id, d.deviceName);
        const [result] = await updated;

        expect(tasks).toHaveLength(1);
        expect(result.task).toMatchObject({ module, version: '2.0.0', size: image.length });
        // Tencent's push has no field for a signature; the others carry it and the device checked it.
        if (dialect !== 'tencent') expect(result.task.signature).toEqual(expect.any(String));
        expect(result.rebootRequired).toBe(false);
        expect(installer.installed).toHaveLength(1);
        expect(installer.installed[0]!.equals(image)).toBe(true);
        expect(device.modules[module]).toBe('2.0.0');
        await upgradeEnds(t, d, module, 'succeeded');
        expect((await jobCounts(t, jobId)).succeeded).toBe(1);
      },
    );

    it.skipIf(!mode.available)(
      `${dialect}: reports a corrupted package as a verify failure and installs nothing`,
      async () => {
        const d = await createFleetDevice(t, dialect);
        const good = randomBytes(64 * 1024);
        const corrupted = Buffer.from(good);
        corrupted[good.length / 2]! ^= 0xff;
        const fileServer = await serveBytes(corrupted);
        cleanups.push(() => new Promise((resolve) => fileServer.close(resolve)));
        const external = await t.api<{ id: number }>(
          'POST',
          `/api/v1/products/${d.productKey}/firmware/external`,
          {
            version: '2.0.0',
            module,
            url: `${serverUrl(fileServer)}/fw.bin`,
            size: good.length,
            md5: md5(good),
            sha256: sha256(good),
          },
        );
        expect(external.status, JSON.stringify(external.body)).toBe(201);
        const installer = recordingInstaller();
        const device = await deviceFor(d, { autoUpdate: installer });
        const failed = next(device, 'update-failed');

        await device.connect();
        await waitOnline(t, d);
        const jobId = await startSingleJob(t, external.body.id, d.deviceName);
        const [, error] = await failed;

        expect(error).toMatchObject({ code: 'verify_failed', step: 'download', aborted: false });
        expect(installer.installed).toHaveLength(0);
        expect(device.modules[module]).toBe('1.0.0');
        const upgrade = await upgradeEnds(t, d, module, 'failed');
        expect(upgrade.errorCode).toBe('verify_failed');
        expect((await jobCounts(t, jobId)).failed).toBe(1);
      },
    );

    it.skipIf(!mode.available)(
      `${dialect}: resumes from the checkpoint with the re-pushed task after the network drops at ~50%`,
      async () => {
        const d = await createFleetDevice(t, dialect);
        const image = randomBytes(1024 * 1024);
        const firmware = await uploadFirmware(t, d.productKey, { version: '2.0.0', module }, image);
        const installer = recordingInstaller();
        // A minute between attempts: only the server's re-push of the task can restart the download in time.
        const device = await deviceFor(d, { autoUpdate: installer, retry: { delayMs: 60_000 } });
        const updated = next(device, 'updated');
        await device.connect();
        await waitOnline(t, d);

        // The whole network goes: the download at half the file, and the MQTT connection with it.
        web.cutAfter(image.length / 2, 'drop', () => net.dropAll());
        await startSingleJob(t, firmware.id, d.deviceName);
        const [result] = await updated;

        expect(installer.installed[0]!.equals(image)).toBe(true);
        const gets = await downloadsOf(firmware.id, 2);
        expect(gets).toHaveLength(2);
        expect(gets[0]!.range?.start ?? 0).toBe(0);
        // From the server's side: the second request asked only for the rest of the file.
        expect(gets[1]).toMatchObject({ status: 206, completed: true });
        expect(gets[1]!.range!.start).toBeGreaterThan(0);
        expect(gets[1]!.range!.start).toBeLessThanOrEqual(image.length / 2);
        expect(gets[1]!.range!.end).toBe(image.length - 1);
        expect(result.resumedFrom).toBe(gets[1]!.range!.start);
        await upgradeEnds(t, d, module, 'succeeded');
      },
    );
  }

  it.skipIf(!mode.available)(
    'resumes a download after a process restart (new OtaDevice, same data directory)',
    async () => {
      const d = await createFleetDevice(t, 'iothub');
      const image = randomBytes(1024 * 1024);
      const firmware = await uploadFirmware(t, d.productKey, { version: '2.0.0', module: 'firmware' }, image);
      const dir = await dataDir();
      const first = await deviceFor(d, { autoUpdate: recordingInstaller() }, dir);
      const failures: unknown[] = [];
      first.on('update-failed', (_task, error) => failures.push(error));
      const halfway = new Promise<void>((resolve) =>
        first.on('progress', (_task, percent) => percent >= 40 && resolve()),
      );
      await first.connect();
      await waitOnline(t, d);

      web.cutAfter(image.length / 2, 'stall');
      await startSingleJob(t, firmware.id, d.deviceName);
      await halfway;
      await first.close(); // the process goes away mid-download

      expect(failures).toEqual([]); // stopping is not a failure of the package
      // Progress is ingested in batches: wait for it rather than read it once.
      await eventually(
        async () => (await upgradeOf(t, d, 'firmware'))?.state === 'downloading',
        'the upgrade to show the progress',
      );
      const installer = recordingInstaller();
      const second = await deviceFor(d, { autoUpdate: installer }, dir);
      const updated = next(second, 'updated');
      await second.connect(); // reports 1.0.0; the server re-pushes the task
      const [result] = await updated;

      expect(installer.installed[0]!.equals(image)).toBe(true);
      const last = (await downloadsOf(firmware.id, 2)).at(-1)!;
      expect(last).toMatchObject({ status: 206, completed: true });
      expect(last.range!.start).toBeGreaterThan(0);
      expect(result.resumedFrom).toBe(last.range!.start);
      await upgradeEnds(t, d, 'firmware', 'succeeded');
    },
  );

  it.skipIf(!mode.available)(
    'does not start a second download when the task is pushed again while downloading',
    async () => {
      const d = await createFleetDevice(t, 'aliyun');
      const image = randomBytes(512 * 1024);
      const firmware = await uploadFirmware(t, d.productKey, { version: '2.0.0', module: 'MCU' }, image);
      // Slow link: the download takes about two seconds.
      const device = await deviceFor(d, {
        autoUpdate: recordingInstaller(),
        download: { bandwidthBytesPerSecond: 256 * 1024 },
      });
      const tasks: UpgradeTask[] = [];
      device.on('upgrade', (task) => tasks.push(task));
      const started = new Promise<void>((resolve) => device.on('progress', () => resolve()));
      const updated = next(device, 'updated');
      await device.connect();
      let replies = 0;
      device.mqtt!.on('message', (topic, payload) => {
        if (topic.endsWith('/thing/ota/firmware/get_reply') && payload.toString().includes('"url"'))
          replies++;
      });
      await waitOnline(t, d);

      await startSingleJob(t, firmware.id, d.deviceName);
      await started;
      await device.requestTask('MCU'); // Aliyun firmware/get: the server replies with the task, freshly signed
      await eventually(async () => replies === 1, 'the firmware/get reply');
      await updated;

      expect(tasks).toHaveLength(1);
      expect(await downloadsOf(firmware.id, 1)).toHaveLength(1);
      await upgradeEnds(t, d, 'MCU', 'succeeded');
    },
  );

  it.skipIf(!mode.available)(
    'reboot flow: reports the installed version on the next start, not before',
    async () => {
      const d = await createFleetDevice(t, 'aliyun');
      const image = randomBytes(64 * 1024);
      const firmware = await uploadFirmware(t, d.productKey, { version: '2.0.0', module: 'MCU' }, image);
      const dir = await dataDir();
      const installer = recordingInstaller(true);
      const first = await deviceFor(d, { autoUpdate: installer }, dir);
      const rebootRequired = next(first, 'reboot-required');
      await first.connect();
      await waitOnline(t, d);

      await startSingleJob(t, firmware.id, d.deviceName);
      const [result] = await rebootRequired;

      expect(result.rebootRequired).toBe(true);
      expect(installer.installed).toHaveLength(1);
      expect(first.modules.MCU).toBe('1.0.0'); // the old firmware still runs until the reboot
      await first.close(); // flushes every report it sent
      // Installed is not upgraded: only the version report after the reboot proves it.
      expect((await upgradeOf(t, d, 'MCU'))?.state).not.toBe('succeeded');
      await access(join(dir, 'pending-reports.json'));

      // After the reboot the application still believes it runs 1.0.0: the pending report corrects it.
      const second = await deviceFor(d, {}, dir);
      await second.connect();

      expect(second.modules.MCU).toBe('2.0.0');
      await upgradeEnds(t, d, 'MCU', 'succeeded');
      await expect(access(join(dir, 'pending-reports.json'))).rejects.toThrow();
    },
  );

  it.skipIf(!mode.available)('reports an install that throws as install_failed', async () => {
    const d = await createFleetDevice(t, 'tencent');
    const firmware = await uploadFirmware(t, d.productKey, { version: '2.0.0' }, randomBytes(32 * 1024));
    const device = await deviceFor(d, {
      autoUpdate: {
        install: async () => {
          throw new Error('flash write failed at 0x8000');
        },
      },
    });
    const failed = next(device, 'update-failed');
    await device.connect();
    await waitOnline(t, d);

    await startSingleJob(t, firmware.id, d.deviceName);
    const [, error] = await failed;

    expect(error).toMatchObject({ code: 'install_failed', step: 'install' });
    expect(device.modules.default).toBe('1.0.0');
    const upgrade = await upgradeEnds(t, d, 'default', 'failed');
    expect(upgrade.errorCode).toBe('install_failed');
  });

  // Mosquitto in the test setup lets anyone in; the embedded broker checks device credentials.
  if (mode.broker === 'embedded')
    it.skipIf(!mode.available)('connect() rejects when the broker refuses the credentials', async () => {
      const d = await createFleetDevice(t, 'aliyun');
      const device = await deviceFor({ ...d, secret: 'not-the-secret' });
      await expect(device.connect()).rejects.toThrow();
      expect(device.connected).toBe(false);
    });
});

/** Serves `bytes` for any path, with a Content-Length, like a plain file server. */
async function serveBytes(bytes: Uint8Array): Promise<Server> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-length': bytes.length, 'content-type': 'application/octet-stream' });
    res.end(bytes);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

function serverUrl(server: Server): string {
  const address = server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}
