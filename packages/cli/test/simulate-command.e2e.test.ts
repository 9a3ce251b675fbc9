import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startTestServer,
  TEST_ADMIN_TOKEN,
  type TestServer,
  uniqueProductKey,
} from '../../server/src/testing/test-server.js';
import type { OutputSink } from '../src/cli-io.js';
import { run } from '../src/program.js';
import type { FleetSnapshot } from '../src/simulate/fleet.js';
import { jobDevices, rollOut, waitOnline } from './simulate-support.js';

/** An output stream that keeps what was written. */
function capture(): OutputSink & { text(): string } {
  const chunks: string[] = [];
  return {
    write(chunk: string | Uint8Array) {
      chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
      return true;
    },
    text: () => chunks.join(''),
  };
}

interface Summary extends FleetSnapshot {
  product: string;
  failedDevices: { name: string; code: string }[];
}

describe('aloft simulate', () => {
  let t: TestServer;
  let dir: string;

  beforeAll(async () => {
    t = await startTestServer({ overrides: { engineTickMs: 50 } });
    dir = await mkdtemp(join(tmpdir(), 'aloft-simulate-'));
  });
  afterAll(async () => {
    await t.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Runs `aloft simulate …` in-process against the test server, fast settings added. */
  async function simulate(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const stdout = capture();
    const stderr = capture();
    const code = await run(
      [
        'simulate',
        '--mqtt',
        t.mqttUrl,
        '--connect-rate',
        '1000',
        '--install-ms',
        '10',
        '--retry-delay-ms',
        '20',
        ...argv,
      ],
      { stdout, stderr, env: { ALOFT_URL: t.server.httpUrl, ALOFT_TOKEN: TEST_ADMIN_TOKEN } },
    );
    return { code, stdout: stdout.text(), stderr: stderr.text() };
  }

  /** Runs a simulation and rolls out a package to its product once all its devices are online. */
  async function simulateRollout(productKey: string, devices: number, version: string, argv: string[]) {
    const running = simulate('--product', productKey, '--until-idle', '0.3', ...argv);
    await waitOnline(t, productKey, devices);
    const { jobId } = await rollOut(t, productKey, { version });
    return { ...(await running), jobId };
  }

  it('registers a fleet, updates it, and with --expect-success exits 1 when devices failed', async () => {
    const productKey = uniqueProductKey();
    const saved = join(dir, 'devices.json');
    const result = await simulateRollout(productKey, 20, '2.0.0', [
      '--dialect',
      'tencent',
      '--devices',
      '20',
      '--fail-install',
      '0.25',
      '--save-devices',
      saved,
      '--expect-success',
      '--json',
    ]);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`created product ${productKey} (tencent)`);
    expect(result.stderr).toContain('registered 20 devices: sim-00001 … sim-00020');
    expect(result.stderr).toMatch(/\[#+\.*\] \d+\/20 done/);
    expect(result.stderr).toContain('error: expected success, but 5 devices failed and 0 did not finish');
    const summary = JSON.parse(result.stdout) as Summary;
    expect(summary).toMatchObject({ product: productKey, devices: 20, states: { upgraded: 15, failed: 5 } });
    expect(summary.failedDevices.every((d) => d.code === 'install_failed')).toBe(true);
    expect((await jobDevices(t, result.jobId, 'failed')).map((r) => r.deviceName).sort()).toEqual(
      summary.failedDevices.map((d) => d.name).sort(),
    );
    // The secrets are in the saved file: only its owner may read it.
    expect((await stat(saved)).mode & 0o077).toBe(0);
  });

  it('refuses to register names that exist, pointing at --devices-file; runs them again from that file', async () => {
    const productKey = uniqueProductKey();
    const saved = join(dir, `${productKey}.json`);
    const first = await simulate(
      '--product',
      productKey,
      '--devices',
      '5',
      '--save-devices',
      saved,
      '--duration',
      '0',
    );
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^simulated 5 devices of product \S+ \(aliyun\)/);

    const again = await simulate('--product', productKey, '--devices', '5', '--duration', '0');
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`Device ${productKey}/sim-00001 already exists`);
    expect(again.stderr).toContain('--devices-file');

    const fromFile = await simulateRollout(productKey, 5, '3.0.0', [
      '--devices-file',
      saved,
      '--expect-success',
    ]);
    expect(fromFile.code, fromFile.stderr).toBe(0);
    expect(fromFile.stdout).toMatch(/upgraded\s+5\n/);
    expect(await jobDevices(t, fromFile.jobId, 'succeeded')).toHaveLength(5);
    expect(JSON.parse(await readFile(saved, 'utf8'))).toMatchObject({ created: 5 });
  });
});
