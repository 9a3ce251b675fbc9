import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  eventually,
  startTestServer,
  TEST_ADMIN_TOKEN,
  type TestServer,
} from '../../server/src/testing/test-server.js';
import { connectDevice } from '../../server/test/device-connect.js';
import type { OutputSink } from '../src/cli-io.js';
import { run } from '../src/program.js';

/** An output stream that keeps what was written. */
function capture(): OutputSink & { text(): string } {
  const chunks: string[] = [];
  const decoder = new TextDecoder();
  return {
    write(chunk: string | Uint8Array) {
      chunks.push(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }));
      return true;
    },
    text: () => chunks.join(''),
  };
}

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

describe('aloft CLI against a running server', () => {
  let t: TestServer;
  let dir: string;
  const clients: MqttClient[] = [];

  /** Runs `aloft <argv>` in-process against the test server, as ALOFT_URL / ALOFT_TOKEN would configure it. */
  async function aloft(argv: string[], env: Record<string, string | undefined> = {}): Promise<Ran> {
    const stdout = capture();
    const stderr = capture();
    const code = await run(argv, {
      stdout,
      stderr,
      env: { ALOFT_URL: t.server.httpUrl, ALOFT_TOKEN: TEST_ADMIN_TOKEN, ...env },
      // Polls (jobs watch) go round without waiting; the server's engine runs on its own timer.
      sleep: () => new Promise((resolve) => setTimeout(resolve, 20)),
    });
    return { code, stdout: stdout.text(), stderr: stderr.text() };
  }

  /** Runs a command with --json and parses its output; fails the test with its stderr when it fails. */
  async function aloftJson<T>(...argv: string[]): Promise<T> {
    const result = await aloft([...argv, '--json']);
    if (result.code !== 0) throw new Error(`aloft ${argv.join(' ')} exited ${result.code}: ${result.stderr}`);
    return JSON.parse(result.stdout) as T;
  }

  beforeAll(async () => {
    t = await startTestServer({ overrides: { engineTickMs: 50 } });
    dir = await mkdtemp(join(tmpdir(), 'aloft-cli-'));
  });
  afterAll(async () => {
    for (const client of clients) await client.endAsync(true);
    await t.close();
    await rm(dir, { recursive: true, force: true });
  });

  describe('products', () => {
    it('creates a product and lists it in a table and as JSON', async () => {
      const created = await aloft([
        'products',
        'create',
        'lamp',
        '--dialect',
        'aliyun',
        '--name',
        'Smart lamp',
      ]);
      expect(created).toMatchObject({ code: 0, stdout: 'created product lamp (aliyun)\n' });

      const table = await aloft(['products', 'list']);
      expect(table.code).toBe(0);
      const [header, row] = table.stdout.split('\n');
      expect(header).toMatch(/^KEY\s+NAME\s+DIALECT\s+SIGNING\s+CREATED$/);
      expect(row).toMatch(/^lamp\s+Smart lamp\s+aliyun\s+no\s+\d{4}-/);
      // Columns line up: every value starts where its header does.
      expect(row!.indexOf('aliyun')).toBe(header!.indexOf('DIALECT'));

      const list = await aloftJson<{ key: string; dialect: string }[]>('products', 'list');
      expect(list).toEqual([expect.objectContaining({ key: 'lamp', dialect: 'aliyun' })]);
    });

    it('shows one product and refuses an unknown one with the server’s message', async () => {
      expect(await aloftJson('products', 'show', 'lamp')).toMatchObject({ key: 'lamp', name: 'Smart lamp' });
      const missing = await aloft(['products', 'show', 'nope']);
      expect(missing).toEqual({
        code: 1,
        stdout: '',
        stderr: 'error: Product nope not found (ALOFT_PRODUCT_NOT_FOUND)\n',
      });
    });
  });

  describe('devices', () => {
    beforeAll(async () => {
      await aloft(['products', 'create', 'meter', '--dialect', 'iothub']);
    });

    it('registers a device and shows its generated secret once', async () => {
      const added = await aloft(['devices', 'add', 'meter', 'meter-1', '--tags', 'beta,floor-2']);
      expect(added.code).toBe(0);
      expect(added.stdout).toMatch(/^device:\s+meter-1$/m);
      expect(added.stdout).toMatch(/^secret:\s+\S{8,}$/m);
      expect(added.stderr).toContain('shown only this once');
    });

    it('imports devices from a CSV file and from a JSON file', async () => {
      const csv = join(dir, 'devices.csv');
      await writeFile(csv, 'name,secret,tags\nmeter-2,secret-0002,beta\nmeter-3,,prod;floor-1\n');
      const imported = await aloft(['devices', 'import', 'meter', csv]);
      expect(imported.code).toBe(0);
      expect(imported.stdout).toMatch(/^meter-2\s+secret-0002\s+beta$/m);
      expect(imported.stdout).toContain('imported 2 devices');

      const json = join(dir, 'devices.json');
      await writeFile(json, JSON.stringify([{ name: 'meter-4' }]));
      expect(await aloftJson('devices', 'import', 'meter', json)).toMatchObject({ created: 1 });
    });

    it('lists and filters devices', async () => {
      const all = await aloftJson<{ items: { name: string }[]; total: number }>('devices', 'list', 'meter');
      expect(all.total).toBe(4);
      const beta = await aloftJson<{ items: { name: string }[] }>(
        'devices',
        'list',
        'meter',
        '--tag',
        'beta',
      );
      expect(beta.items.map((d) => d.name).sort()).toEqual(['meter-1', 'meter-2']);

      const page = await aloft(['devices', 'list', 'meter', '--limit', '2']);
      expect(page.stdout.split('\n')[0]).toMatch(/^NAME\s+ONLINE\s+VERSIONS\s+TAGS\s+LAST SEEN$/);
      expect(page.stdout).toContain('showing 1-2 of 4 devices (next: --offset 2)');
    });

    it('replaces tags, shows, reports status and history, and deletes a device', async () => {
      const tagged = await aloftJson<{ tags: string[] }>('devices', 'tags', 'meter', 'meter-4', 'a', 'b,c');
      expect(tagged.tags).toEqual(['a', 'b', 'c']);
      expect(await aloftJson('devices', 'show', 'meter', 'meter-4')).toMatchObject({
        name: 'meter-4',
        online: false,
        tags: ['a', 'b', 'c'],
      });
      expect(await aloftJson('devices', 'status', 'meter', 'meter-4')).toMatchObject({
        device: 'meter-4',
        upgrade: null,
      });
      expect((await aloft(['devices', 'history', 'meter', 'meter-4'])).stdout).toBe('no upgrades yet\n');

      expect((await aloft(['devices', 'delete', 'meter', 'meter-4'])).stdout).toBe(
        'deleted device meter-4\n',
      );
      expect(await aloft(['devices', 'show', 'meter', 'meter-4'])).toMatchObject({
        code: 1,
        stderr: expect.stringContaining('(ALOFT_DEVICE_NOT_FOUND)'),
      });
    });

    it('refuses tags without --clear, and a device list file it cannot read', async () => {
      expect(await aloft(['devices', 'tags', 'meter', 'meter-1'])).toMatchObject({
        code: 1,
        stderr: 'error: give the new tags, or --clear to remove them\n',
      });
      expect(await aloft(['devices', 'import', 'meter', join(dir, 'missing.csv')])).toMatchObject({
        code: 1,
        stderr: expect.stringMatching(/^error: cannot read .*missing\.csv/),
      });
    });
  });

  describe('firmware and jobs', () => {
    let firmwareFile: string;
    let content: Buffer;
    let firmwareId: number;

    beforeAll(async () => {
      // Several read chunks, so the upload really streams.
      content = randomBytes(3 * 1024 * 1024 + 123);
      firmwareFile = join(dir, 'lamp-2.0.0.bin');
      await writeFile(firmwareFile, content);
    });

    it('uploads a file as a stream; the stored size and digests match the file', async () => {
      const md5 = createHash('md5').update(content).digest('hex');
      const uploaded = await aloft([
        'firmware',
        'upload',
        firmwareFile,
        '--product',
        'lamp',
        '--version',
        '2.0.0',
        '--source-versions',
        '1.0.0,1.1.0',
        '--md5',
        md5,
        '--json',
      ]);
      expect(uploaded.code).toBe(0);
      const firmware = JSON.parse(uploaded.stdout) as Record<string, unknown>;
      expect(firmware).toMatchObject({
        productKey: 'lamp',
        version: '2.0.0',
        module: 'default',
        fileName: 'lamp-2.0.0.bin',
        size: content.byteLength,
        md5,
        sha256: createHash('sha256').update(content).digest('hex'),
        sourceVersions: ['1.0.0', '1.1.0'],
      });
      // The progress line goes to stderr; stdout holds only the JSON.
      expect(uploaded.stderr).toMatch(/^uploading lamp-2\.0\.0\.bin: 3\.0 MiB in /);
      firmwareId = firmware.id as number;
    });

    it('rejects an upload whose md5 does not match, and one to an unknown product', async () => {
      const wrong = await aloft([
        'firmware',
        'upload',
        firmwareFile,
        '--product',
        'lamp',
        '--version',
        '2.0.1',
        '--md5',
        '0'.repeat(32),
      ]);
      expect(wrong).toMatchObject({
        code: 1,
        stderr: expect.stringContaining('(ALOFT_FIRMWARE_DIGEST_MISMATCH)'),
      });
      const unknown = await aloft([
        'firmware',
        'upload',
        firmwareFile,
        '--product',
        'nope',
        '--version',
        '1',
      ]);
      expect(unknown).toMatchObject({
        code: 1,
        stderr: 'error: Product nope not found (ALOFT_PRODUCT_NOT_FOUND)\n',
      });
      const list = await aloftJson<{ total: number }>('firmware', 'list', '--product', 'lamp');
      expect(list.total).toBe(1);
    });

    it('lists, shows and downloads the package byte for byte', async () => {
      const table = await aloft(['firmware', 'list']);
      expect(table.stdout).toMatch(
        new RegExp(`^\\s*${firmwareId}\\s+lamp\\s+default\\s+2\\.0\\.0\\s+3\\.0 MiB\\s+unverified`, 'm'),
      );
      expect((await aloft(['firmware', 'show', String(firmwareId)])).stdout).toMatch(/^version:\s+2\.0\.0$/m);

      const target = join(dir, 'downloaded.bin');
      const downloaded = await aloft(['firmware', 'download', String(firmwareId), '-o', target]);
      expect(downloaded.code).toBe(0);
      expect(downloaded.stdout).toContain(`saved ${target}`);
      expect((await readFile(target)).equals(content)).toBe(true);
      // A second download does not silently overwrite it.
      expect(await aloft(['firmware', 'download', String(firmwareId), '-o', target])).toMatchObject({
        code: 1,
        stderr: expect.stringContaining('already exists'),
      });
    });

    it('creates a single job and shows it, its devices and the list', async () => {
      const added = await aloftJson<{ secret: string }>('devices', 'add', 'lamp', 'lamp-1');
      const job = await aloftJson<{ id: number; kind: string; targetVersion: string }>(
        'jobs',
        'single',
        '--firmware',
        String(firmwareId),
        '--device',
        'lamp-1',
        '--name',
        'first light',
        '--device-timeout',
        '10m',
      );
      expect(job).toMatchObject({ kind: 'single', targetVersion: '2.0.0' });

      // The engine enrols the device on its next tick.
      const detail = await eventually(async () => {
        const shown = await aloftJson<{ total: number; strategy: unknown }>('jobs', 'show', String(job.id));
        return shown.total === 1 && shown;
      }, 'the device to be enrolled');
      expect(detail.strategy).toMatchObject({ deviceTimeoutSeconds: 600 });
      const shown = await aloft(['jobs', 'show', String(job.id)]);
      expect(shown.stdout).toMatch(/^name:\s+first light$/m);
      expect(shown.stdout).toMatch(/\[[#.]{30}\]\s+0\.0%\s+0 of 1 finished/);

      const devices = await aloftJson<{ items: { deviceName: string }[] }>('jobs', 'devices', String(job.id));
      expect(devices.items.map((d) => d.deviceName)).toEqual(['lamp-1']);
      const listed = await aloft(['jobs', 'list', '--product', 'lamp']);
      expect(listed.stdout).toMatch(new RegExp(`^\\s*${job.id}\\s+single\\s+first light\\s+lamp`, 'm'));

      // The device comes online, is told, and reports the target version: `jobs watch` follows it to the end.
      const device = await connectDevice(
        t.mqttUrl,
        'aliyun',
        { productKey: 'lamp', deviceName: 'lamp-1' },
        added.secret,
      );
      clients.push(device);
      await eventually(async () => {
        const status = await aloftJson<{ upgrade: { state: string } | null }>(
          'devices',
          'status',
          'lamp',
          'lamp-1',
        );
        return status.upgrade?.state === 'notified';
      }, 'the device to be notified');
      await device.publishAsync('/ota/device/inform/lamp/lamp-1', '{"id":"1","params":{"version":"2.0.0"}}', {
        qos: 1,
      });
      const watched = await aloft(['jobs', 'watch', String(job.id)]);
      expect(watched.stderr).toBe('');
      expect(watched.code).toBe(0);
      expect(watched.stdout).toContain(`job ${job.id} completed: 1/1 finished`);
      expect(watched.stdout).toMatch(/\[#{30}\]\s+100\.0%\s+1 of 1 finished/);
      expect(watched.stdout).toContain('success rate 100.0%');

      // The job's event history, replayed from the start of the feed.
      const replay = await aloft([
        'events',
        '--job',
        String(job.id),
        '--after',
        '0',
        '--count',
        '3',
        '--json',
      ]);
      expect(replay.code).toBe(0);
      const events = replay.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { jobId: number; deviceName: string; toState: string });
      expect(events.map((e) => [e.jobId, e.deviceName, e.toState])).toEqual([
        [job.id, 'lamp-1', 'queued'],
        [job.id, 'lamp-1', 'notified'],
        [job.id, 'lamp-1', 'succeeded'],
      ]);
      const lines = await aloft(['events', '--job', String(job.id), '--after', '0', '--count', '3']);
      expect(lines.stdout.split('\n')[2]).toMatch(
        new RegExp(`^\\d{4}-.*  job ${job.id}  lamp-1  notified -> succeeded$`),
      );

      const history = await aloft(['devices', 'history', 'lamp', 'lamp-1']);
      expect(history.stdout).toMatch(
        /^upgrade \d+ \(job \d+, attempt \d+\)\s+default .* -> 2\.0\.0\s+succeeded$/m,
      );
    });

    it('watch exits 1 when the job is cancelled', async () => {
      await aloft(['devices', 'add', 'lamp', 'lamp-2']);
      const job = await aloftJson<{ id: number }>(
        'jobs',
        'single',
        '--firmware',
        String(firmwareId),
        '--device',
        'lamp-2',
      );
      expect((await aloft(['jobs', 'cancel', String(job.id)])).stdout).toBe(`job ${job.id}: cancelled\n`);
      const watched = await aloft(['jobs', 'watch', String(job.id), '--json']);
      expect(watched).toMatchObject({ code: 1, stderr: `error: job ${job.id} ended cancelled\n` });
      expect(JSON.parse(watched.stdout.trim().split('\n').at(-1)!)).toMatchObject({
        id: job.id,
        state: 'cancelled',
      });
    });

    it('refuses a batch of an unverified package with the server’s message', async () => {
      const refused = await aloft(['jobs', 'batch', '--firmware', String(firmwareId)]);
      expect(refused).toMatchObject({
        code: 1,
        stderr: expect.stringContaining('(ALOFT_FIRMWARE_UNVERIFIED)'),
      });
    });
  });

  describe('steering jobs', () => {
    let firmwareId: number;

    beforeAll(async () => {
      await aloft(['products', 'create', 'valve', '--dialect', 'tencent']);
      const csv = join(dir, 'valves.csv');
      await writeFile(csv, 'name\nvalve-1\nvalve-2\nvalve-3\n');
      await aloft(['devices', 'import', 'valve', csv]);
      const file = join(dir, 'valve.bin');
      await writeFile(file, randomBytes(1000));
      firmwareId = (
        await aloftJson<{ id: number }>('firmware', 'upload', file, '--product', 'valve', '--version', '3.0')
      ).id;
    });

    it('verifies a package on test devices', async () => {
      const job = await aloftJson<{ kind: string; targets: unknown }>(
        'jobs',
        'verify',
        '--firmware',
        String(firmwareId),
        '--devices',
        'valve-1',
      );
      expect(job).toMatchObject({ kind: 'verify', targets: { deviceNames: ['valve-1'] } });
      expect(await aloftJson('firmware', 'show', String(firmwareId))).toMatchObject({
        verifyState: 'verifying',
      });
    });

    it('rolls out to a device list file, pauses, resumes, cancels one upgrade and then the job', async () => {
      const list = join(dir, 'valves.txt');
      await writeFile(list, 'valve-2\nvalve-3\n');
      const mixed = await aloft([
        'jobs',
        'batch',
        '--firmware',
        String(firmwareId),
        '--device-file',
        list,
        '--tags',
        'x',
      ]);
      expect(mixed).toMatchObject({
        code: 1,
        stderr: expect.stringContaining('--device-file takes no other targets'),
      });

      const job = await aloftJson<{ id: number; kind: string; targets: unknown }>(
        'jobs',
        'batch',
        '--firmware',
        String(firmwareId),
        '--device-file',
        list,
        '--allow-unverified',
        '--name',
        'from a list',
      );
      expect(job).toMatchObject({ kind: 'batch', targets: { deviceNames: ['valve-2', 'valve-3'] } });
      const id = String(job.id);

      expect((await aloft(['jobs', 'pause', id])).stdout).toBe(`job ${id}: paused\n`);
      expect((await aloft(['jobs', 'resume', id])).stdout).toBe(`job ${id}: running\n`);

      const pending = await eventually(async () => {
        const page = await aloftJson<{ items: { id: number; deviceName: string }[] }>('jobs', 'devices', id);
        return page.items.length === 2 && page.items;
      }, 'both devices to be enrolled');
      // A page at a time after an upgrade id: each page names where the next starts, the last page nowhere.
      const [first, second] = pending.map((u) => u.id) as [number, number];
      const byCursor = await aloft(['jobs', 'devices', id, '--limit', '1', '--after', '0']);
      expect(byCursor.stdout).toMatch(
        new RegExp(`^\\s*${first}\\s+${pending[0]!.deviceName}\\s+queued`, 'm'),
      );
      expect(byCursor.stdout).toContain(`\n1 of 2 devices after upgrade 0 (next: --after ${first})\n`);
      const last = await aloftJson<{ items: { id: number }[]; total: number; nextAfter: number | null }>(
        'jobs',
        'devices',
        id,
        '--limit',
        '1',
        '--after',
        String(first),
      );
      expect(last).toMatchObject({ items: [{ id: second }], total: 2, nextAfter: null });
      expect((await aloft(['jobs', 'devices', id, '--after', String(second)])).stdout).toMatch(
        new RegExp(`\nno devices after upgrade ${second} \\(2 in all\\)\n$`),
      );

      const upgrade = pending.find((u) => u.deviceName === 'valve-2')!;
      expect((await aloft(['upgrades', 'cancel', String(upgrade.id)])).stdout).toBe(
        `cancelled upgrade ${upgrade.id}\n`,
      );
      const cancelledTab = await aloftJson<{ items: { deviceName: string }[] }>(
        'jobs',
        'devices',
        id,
        '--tab',
        'cancelled',
      );
      expect(cancelledTab.items.map((u) => u.deviceName)).toEqual(['valve-2']);

      expect((await aloft(['jobs', 'cancel', id])).stdout).toBe(`job ${id}: cancelled\n`);
      // Nothing failed, so there is nothing to retry: the server says so (the request itself is well formed).
      expect(await aloft(['jobs', 'retry', id, '--max-per-minute', '10'])).toMatchObject({
        code: 1,
        stderr: `error: job ${id} has no failed devices to retry (ALOFT_JOB_INVALID)\n`,
      });
      expect(await aloft(['jobs', 'pause', id])).toMatchObject({
        code: 1,
        stderr: expect.stringContaining('(ALOFT_JOB_TRANSITION)'),
      });
    });
  });

  describe('webhooks', () => {
    it('subscribes a URL, queues a test ping, lists and redelivers it, and deletes the webhook', async () => {
      const url = `http://127.0.0.1:${await closedPort()}/hook`;
      const created = await aloft(['webhooks', 'create', '--url', url, '--states', 'succeeded,failed']);
      expect(created.code).toBe(0);
      expect(created.stdout).toMatch(/^secret:\s+\S{16,}$/m);
      const id = /^webhook:\s+(\d+)$/m.exec(created.stdout)![1]!;

      const list = await aloftJson<{ items: { id: number; url: string; states: string[] }[] }>(
        'webhooks',
        'list',
      );
      expect(list.items).toEqual([
        expect.objectContaining({ id: Number(id), url, states: ['succeeded', 'failed'] }),
      ]);

      const ping = await aloftJson<{ id: number; eventType: string }>('webhooks', 'test', id);
      expect(ping.eventType).toBe('ping');
      const deliveries = await aloftJson<{ items: { id: number }[] }>('webhooks', 'deliveries', id);
      expect(deliveries.items.map((d) => d.id)).toContain(ping.id);
      expect((await aloft(['webhooks', 'show', id])).stdout).toMatch(
        /^deliveries:\s+\d+ pending, \d+ delivered, \d+ failed$/m,
      );
      expect((await aloft(['webhooks', 'redeliver', id, String(ping.id)])).code).toBe(0);

      expect((await aloft(['webhooks', 'delete', id])).stdout).toBe(`deleted webhook ${id}\n`);
      expect(await aloft(['webhooks', 'show', id])).toMatchObject({
        code: 1,
        stderr: expect.stringContaining('(ALOFT_WEBHOOK_NOT_FOUND)'),
      });
    });
  });

  describe('tokens', () => {
    it('creates a token that then works for other commands', async () => {
      const created = await aloft(['tokens', 'create', 'ci']);
      expect(created.code).toBe(0);
      const token = created.stdout.trim();
      expect(token).not.toBe('');
      expect(await aloft(['products', 'list', '--json'], { ALOFT_TOKEN: token })).toMatchObject({ code: 0 });
    });
  });

  describe('connection problems', () => {
    it('reports a rejected token with the server’s 401 message', async () => {
      expect(await aloft(['products', 'list', '--token', 'wrong-token'])).toEqual({
        code: 1,
        stdout: '',
        stderr: 'error: Missing or invalid bearer token (ALOFT_UNAUTHORIZED)\n',
      });
    });

    it('names the URL when no server is listening there', async () => {
      const port = await closedPort();
      const url = `http://127.0.0.1:${port}`;
      const down = await aloft(['products', 'list'], { ALOFT_URL: url });
      expect(down.code).toBe(1);
      expect(down.stderr).toBe(
        `error: cannot reach the Aloft server at ${url}: connection refused (is \`aloft serve\` running? set --server or ALOFT_URL)\n`,
      );
      // --server wins over ALOFT_URL.
      expect((await aloft(['products', 'list', '--server', url])).stderr).toContain(url);
    });

    it('asks for a token before calling the server', async () => {
      expect(await aloft(['products', 'list'], { ALOFT_TOKEN: undefined })).toMatchObject({
        code: 1,
        stderr: expect.stringMatching(/^error: no API token: pass --token or set ALOFT_TOKEN/),
      });
    });

    it('reports usage errors without calling the server', async () => {
      const missing = await aloft(['firmware', 'upload', 'x.bin', '--version', '1.0']);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain("error: required option '--product <key>' not specified");
      expect(await aloft(['jobs', 'devices', '1', '--offset', '50', '--after', '7'])).toMatchObject({
        code: 1,
        stderr: expect.stringContaining(
          "error: option '--after <id>' cannot be used with option '--offset <n>'",
        ),
      });
      const badId = await aloft(['jobs', 'show', 'abc']);
      expect(badId).toMatchObject({
        code: 1,
        stderr: 'error: job id must be a positive integer, got "abc"\n',
      });
    });
  });

  it('prints its version and help without exiting the process', async () => {
    expect(await aloft(['--version'])).toEqual({ code: 0, stdout: '0.1.0\n', stderr: '' });
    const help = await aloft(['jobs', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('watch [options] <jobId>');
  });
});

/** A local port nothing listens on (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
