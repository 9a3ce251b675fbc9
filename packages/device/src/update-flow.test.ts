import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ProgressReport, UpgradeTask } from '@aloft/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FirmwareServer, startFirmwareServer } from './download/testing/firmware-server.js';
import { firmwareImage, signingKey, taskFor, useTempDataDir } from './download/testing/fixtures.js';
import type { Installer, UpdateResult } from './ota-device-options.js';
import { PendingReports } from './pending-reports.js';
import { ProgressReporter } from './progress-reporter.js';
import { UpdateError } from './update-error.js';
import { runUpdateFlow, type UpdateFlowContext } from './update-flow.js';
import { UpdateSession } from './update-session.js';

let server: FirmwareServer;
let dir: string;
useTempDataDir((created) => {
  dir = created;
});

beforeEach(async () => {
  server = await startFirmwareServer();
});
afterEach(async () => {
  await server.close();
});

const image = firmwareImage(128 * 1024);

/** Runs the flow against the test firmware server, recording what the device would send. */
function flow(task: UpgradeTask, overrides: Partial<UpdateFlowContext> = {}) {
  const reports: ProgressReport[] = [];
  const installed: Buffer[] = [];
  const confirmed: string[] = [];
  const asked: string[] = [];
  const installer: Installer = {
    install: async (file) => {
      installed.push(await readFile(file));
    },
  };
  const pending = new PendingReports(join(dir, 'pending-reports.json'));
  let session!: UpdateSession;
  const done = new Promise<UpdateResult>((resolve, reject) => {
    session = new UpdateSession(task, (self) =>
      runUpdateFlow({
        session: self,
        installer,
        progress: new ProgressReporter(task, async (r) => {
          reports.push(r);
        }),
        downloadDir: join(dir, 'downloads'),
        publicKey: undefined,
        download: {},
        retry: { attempts: 3, delayMs: 5, maxDelayMs: 20, taskWaitMs: 200 },
        pending,
        askForTask: async (module) => {
          asked.push(module);
        },
        confirm: (module, version) => confirmed.push(`${module}@${version}`),
        onProgress: () => {},
        ...overrides,
      }),
    );
    session.promise.then(resolve, reject);
  });
  const failures = () => reports.filter((r) => r.phase === 'failed');
  return { session, done, reports, installed, confirmed, asked, pending, failures };
}

async function rejection(promise: Promise<unknown>): Promise<UpdateError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UpdateError);
  return error as UpdateError;
}

describe('runUpdateFlow', () => {
  it('downloads, reports progress up to 100, installs, then confirms the version', async () => {
    const run = flow(taskFor(image, server.url('fw.bin', image.bytes)));
    const result = await run.done;

    expect(result).toMatchObject({ rebootRequired: false, resumedFrom: 0 });
    expect(run.installed[0]!.equals(image.bytes)).toBe(true);
    expect(run.confirmed).toEqual(['MCU@2.0.0']);
    const downloading = run.reports.filter((r) => r.phase === 'downloading').map((r) => r.percent);
    expect(downloading.at(-1)).toBe(100);
    expect(run.reports.at(-1)).toMatchObject({ phase: 'installing' });
    expect(run.failures()).toEqual([]);
  });

  it('retries a dropped download from its checkpoint without reporting a failure', async () => {
    server.next({ dropAfterBytes: 64 * 1024 });
    const run = flow(taskFor(image, server.url('fw.bin', image.bytes)));
    const result = await run.done;

    expect(result.resumedFrom).toBeGreaterThan(0);
    expect(server.requests[1]?.range).toBe(`bytes=${result.resumedFrom}-`);
    expect(run.failures()).toEqual([]);
  });

  it('reports download_failed once the attempts are used up', async () => {
    server.next({ status: 500 }, { status: 500 }, { status: 500 });
    const run = flow(taskFor(image, server.url('fw.bin', image.bytes)));
    const error = await rejection(run.done);

    expect(error).toMatchObject({ code: 'download_failed', step: 'download', aborted: false });
    expect(server.requests).toHaveLength(3);
    expect(run.failures()).toMatchObject([{ error: 'download_failed' }]);
    expect(run.installed).toEqual([]);
  });

  it('asks for the task again on a refused URL and continues with the fresh push', async () => {
    server.next({ status: 403 });
    const run = flow(taskFor(image, server.url('fw.bin', image.bytes)), {
      askForTask: async (module) => {
        run.asked.push(module);
        run.session.offer(taskFor(image, server.url('fw.bin')));
      },
    });
    await run.done;

    expect(run.asked).toEqual(['MCU']);
    expect(server.requests[1]?.url).not.toBe(server.requests[0]?.url);
    expect(run.failures()).toEqual([]);
  });

  it('reports url_expired when no fresh task comes', async () => {
    server.next({ status: 403 });
    const run = flow(taskFor(image, server.url('fw.bin', image.bytes)));
    const error = await rejection(run.done);

    expect(error.code).toBe('url_expired');
    expect(run.asked).toEqual(['MCU']);
    expect(run.failures()).toMatchObject([{ error: 'url_expired' }]);
  });

  it('reports a corrupted package as verify_failed at once, without retrying', async () => {
    server.next({ corrupt: true });
    const run = flow(taskFor(image, server.url('fw.bin', image.bytes)));
    const error = await rejection(run.done);

    expect(error.code).toBe('verify_failed');
    expect(server.requests).toHaveLength(1);
    expect(run.failures()).toMatchObject([{ error: 'verify_failed' }]);
  });

  it('reports a package whose signature does not verify as verify_failed', async () => {
    const key = signingKey();
    const forged = signingKey().sign(image.sha256);
    const run = flow(taskFor(image, server.url('fw.bin', image.bytes), { signature: forged }), {
      publicKey: key.publicKeyPem,
    });
    expect((await rejection(run.done)).code).toBe('verify_failed');
    expect(run.installed).toEqual([]);
  });

  it('reports an install that throws as install_failed and forgets its pending report', async () => {
    const run = flow(taskFor(image, server.url('fw.bin', image.bytes)), {
      installer: {
        reboot: true,
        install: async () => {
          throw new Error('flash write failed');
        },
      },
    });
    const error = await rejection(run.done);

    expect(error).toMatchObject({ code: 'install_failed', step: 'install', message: 'flash write failed' });
    expect(run.failures()).toMatchObject([{ error: 'install_failed', message: 'flash write failed' }]);
    expect(await run.pending.load()).toEqual([]);
    expect(run.confirmed).toEqual([]);
  });

  it('reboot flow: records the pending report before install and confirms nothing', async () => {
    let pendingDuringInstall: unknown;
    const run = flow(taskFor(image, server.url('fw.bin', image.bytes)), {
      installer: {
        reboot: true,
        install: async () => {
          pendingDuringInstall = await run.pending.load();
        },
      },
    });
    const result = await run.done;

    expect(result.rebootRequired).toBe(true);
    expect(pendingDuringInstall).toEqual([{ module: 'MCU', version: '2.0.0' }]);
    expect(run.confirmed).toEqual([]);
  });

  it('stops without reporting when aborted mid-download', async () => {
    server.next({ stallAfterBytes: 32 * 1024 });
    const run = flow(taskFor(image, server.url('fw.bin', image.bytes)));
    await new Promise((r) => setTimeout(r, 100));
    run.session.abort(new UpdateError('other', 'download', 'device closed', { aborted: true }));
    const error = await rejection(run.done);

    expect(error.aborted).toBe(true);
    expect(run.failures()).toEqual([]);
    expect(run.installed).toEqual([]);
  });
});
