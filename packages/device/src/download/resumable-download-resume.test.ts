import { appendFile, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type DownloadCheckpoint, readCheckpoint } from './checkpoint.js';
import { DownloadError } from './download-error.js';
import { packageFiles } from './package-files.js';
import { downloadFirmware } from './resumable-download.js';
import { type FirmwareServer, startFirmwareServer } from './testing/firmware-server.js';
import { firmwareImage, taskFor, useTempDataDir } from './testing/fixtures.js';

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

const SIZE = 256 * 1024;
const image = firmwareImage(SIZE);
const files = () => packageFiles(dir, { module: 'MCU', version: '2.0.0' });

async function failure(promise: Promise<unknown>): Promise<DownloadError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DownloadError);
  return error as DownloadError;
}

/** A first attempt whose connection dies halfway; returns the checkpoint it left. */
async function interruptedDownload(url = server.url('fw.bin', image.bytes)): Promise<DownloadCheckpoint> {
  server.next({ dropAfterBytes: SIZE / 2 });
  const error = await failure(downloadFirmware(taskFor(image, url), { dir }));
  expect(error.code).toBe('download_failed');
  const checkpoint = await readCheckpoint(files().checkpoint);
  expect(checkpoint?.bytesWritten).toBeGreaterThan(0);
  return checkpoint as DownloadCheckpoint;
}

async function expectVerifiedFile(path: string): Promise<void> {
  expect((await readFile(path)).equals(image.bytes)).toBe(true);
  expect(await readdir(dir)).toEqual(['MCU-2.0.0.bin']);
}

describe('downloadFirmware: resuming', () => {
  it('resumes after the connection drops at ~50%, asking only for the rest', async () => {
    const url = server.url('fw.bin', image.bytes);
    const { bytesWritten } = await interruptedDownload(url);

    const result = await downloadFirmware(taskFor(image, url), { dir });

    expect(result.resumedFrom).toBe(bytesWritten);
    const [first, second] = server.requests;
    expect(first?.range).toBeUndefined();
    expect(second?.range).toBe(`bytes=${bytesWritten}-`);
    expect(second?.status).toBe(206);
    expect(server.bytesServed('fw.bin')).toBeLessThan(1.5 * SIZE);
    await expectVerifiedFile(result.path);
  });

  it('resumes with a freshly signed URL for the same package', async () => {
    const { bytesWritten } = await interruptedDownload();
    const freshUrl = server.url('fw.bin');

    const result = await downloadFirmware(taskFor(image, freshUrl), { dir });

    expect(result.resumedFrom).toBe(bytesWritten);
    expect(server.requests[1]?.url).toBe(new URL(freshUrl).pathname + new URL(freshUrl).search);
    expect(server.requests[1]?.range).toBe(`bytes=${bytesWritten}-`);
    await expectVerifiedFile(result.path);
  });

  it('resumes after a process restart that left the partial file longer than its checkpoint', async () => {
    const { bytesWritten } = await interruptedDownload();
    // Simulate a crash: the last checkpoint is older than the data, and unconfirmed garbage follows,
    // enough to make the partial longer than the whole package.
    const checkpointed = bytesWritten - 10_000;
    const checkpoint = await readCheckpoint(files().checkpoint);
    await writeFile(files().checkpoint, JSON.stringify({ ...checkpoint, bytesWritten: checkpointed }));
    await appendFile(files().part, new Uint8Array(SIZE).fill(0xee));

    const result = await downloadFirmware(taskFor(image, server.url('fw.bin')), { dir });

    expect(result.resumedFrom).toBe(checkpointed);
    expect(server.requests[1]?.range).toBe(`bytes=${checkpointed}-`);
    await expectVerifiedFile(result.path);
  });

  it('writes checkpoints while streaming, not only on failure, and keeps them on abort', async () => {
    server.next({ stallAfterBytes: 200 * 1024 });
    const controller = new AbortController();
    const pending = downloadFirmware(taskFor(image, server.url('fw.bin', image.bytes)), {
      dir,
      signal: controller.signal,
      checkpointEveryBytes: 32 * 1024,
    });
    await vi.waitFor(async () => {
      expect((await readCheckpoint(files().checkpoint))?.bytesWritten).toBeGreaterThanOrEqual(160 * 1024);
    });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    // How much arrived before the abort depends on scheduling; what must hold is that the checkpoint kept at the
    // abort covers at least what was seen checkpointed while streaming, and the resume starts exactly there.
    const kept = (await readCheckpoint(files().checkpoint))?.bytesWritten ?? 0;
    expect(kept).toBeGreaterThanOrEqual(160 * 1024);

    const result = await downloadFirmware(taskFor(image, server.url('fw.bin')), { dir });
    expect(result.resumedFrom).toBe(kept);
    await expectVerifiedFile(result.path);
  });

  it('closes the connection when aborted mid-body, so the server stops sending', async () => {
    server.next({ stallAfterBytes: SIZE / 2 });
    const controller = new AbortController();
    const pending = downloadFirmware(taskFor(image, server.url('fw.bin', image.bytes)), {
      dir,
      signal: controller.signal,
    });
    await vi.waitFor(() => expect(server.requests[0]?.bytesServed).toBe(SIZE / 2));
    expect(server.openConnections()).toBe(1);
    const reason = new Error('device closed');
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    await vi.waitFor(() => expect(server.openConnections()).toBe(0));
  });

  it('gives up on a stalled connection with download_failed, closing it, then resumes', async () => {
    server.next({ stallAfterBytes: SIZE / 4 });
    const task = taskFor(image, server.url('fw.bin', image.bytes));
    const error = await failure(downloadFirmware(task, { dir, idleTimeoutMs: 100 }));
    expect([error.code, error.message]).toEqual(['download_failed', 'no data for 100 ms']);
    await vi.waitFor(() => expect(server.openConnections()).toBe(0));

    const result = await downloadFirmware(task, { dir });
    expect(result.resumedFrom).toBe(SIZE / 4);
  });

  it('keeps the checkpoint on 403 so the re-pushed URL resumes', async () => {
    const { bytesWritten } = await interruptedDownload();
    server.next({ status: 403 });
    expect((await failure(downloadFirmware(taskFor(image, server.url('fw.bin')), { dir }))).code).toBe(
      'url_expired',
    );
    const result = await downloadFirmware(taskFor(image, server.url('fw.bin')), { dir });
    expect(result.resumedFrom).toBe(bytesWritten);
  });

  it('finishes without a request when the partial file is already complete', async () => {
    await writeFile(files().part, image.bytes);
    await writeFile(
      files().checkpoint,
      JSON.stringify({ ...taskFor(image, 'http://old'), bytesWritten: SIZE, digestAlgorithm: undefined }),
    );
    const result = await downloadFirmware(taskFor(image, server.url('fw.bin', image.bytes)), { dir });
    expect(result.resumedFrom).toBe(SIZE);
    expect(server.requests).toHaveLength(0);
    await expectVerifiedFile(result.path);
  });
});

describe('downloadFirmware: starting over', () => {
  it('discards the checkpoint and partial of a different package', async () => {
    await interruptedDownload();
    const other = firmwareImage(SIZE, 7);

    const result = await downloadFirmware(
      taskFor(other, server.url('v3.bin', other.bytes), { version: '3.0.0' }),
      {
        dir,
      },
    );

    expect(result.resumedFrom).toBe(0);
    expect(server.requests[1]?.range).toBeUndefined();
    expect((await readFile(result.path)).equals(other.bytes)).toBe(true);
    expect(await readdir(dir)).toEqual(['MCU-3.0.0.bin']);
  });

  it('treats a changed digest as a different package even with the same version', async () => {
    await interruptedDownload();
    const rebuilt = firmwareImage(SIZE, 9);
    const result = await downloadFirmware(taskFor(rebuilt, server.url('rebuilt.bin', rebuilt.bytes)), {
      dir,
    });
    expect(result.resumedFrom).toBe(0);
    expect((await readFile(result.path)).equals(rebuilt.bytes)).toBe(true);
  });

  it('discards a partial file that has no checkpoint', async () => {
    await writeFile(files().part, new Uint8Array(1000).fill(1));
    const result = await downloadFirmware(taskFor(image, server.url('fw.bin', image.bytes)), { dir });
    expect(result.resumedFrom).toBe(0);
    expect(server.requests[0]?.range).toBeUndefined();
  });

  it('discards a partial whose checkpoint is unreadable', async () => {
    await interruptedDownload();
    await writeFile(files().checkpoint, '{"module":"MCU","bytesWr');
    const result = await downloadFirmware(taskFor(image, server.url('fw.bin')), { dir });
    expect(result.resumedFrom).toBe(0);
    expect(server.requests[1]?.range).toBeUndefined();
  });

  it('restarts from 0 cleanly when the server ignores Range (200)', async () => {
    await interruptedDownload();
    server.next({ ignoreRange: true });

    const result = await downloadFirmware(taskFor(image, server.url('fw.bin')), { dir });

    expect(result.resumedFrom).toBe(0);
    expect(server.requests[1]?.range).toMatch(/^bytes=\d+-$/);
    expect(server.requests[1]?.status).toBe(200);
    expect((await stat(result.path)).size).toBe(SIZE);
    await expectVerifiedFile(result.path);
  });

  it('restarts from 0 when a resume gets 416', async () => {
    await interruptedDownload();
    server.next({ status: 416 });

    const result = await downloadFirmware(taskFor(image, server.url('fw.bin')), { dir });

    expect(result.resumedFrom).toBe(0);
    expect(server.requests.map((r) => [r.status, r.range === undefined])).toEqual([
      [200, true],
      [416, false],
      [200, true],
    ]);
    await expectVerifiedFile(result.path);
  });
});
