import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DownloadError } from './download-error.js';
import { downloadFirmware } from './resumable-download.js';
import { type FirmwareServer, startFirmwareServer } from './testing/firmware-server.js';
import { firmwareImage, signingKey, taskFor, useTempDataDir, virtualClock } from './testing/fixtures.js';

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

/** Resolves to the DownloadError a promise rejects with. */
async function failure(promise: Promise<unknown>): Promise<DownloadError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DownloadError);
  return error as DownloadError;
}

const image = firmwareImage(256 * 1024);

describe('downloadFirmware: a whole download', () => {
  it('downloads and verifies a sha256 task into <module>-<version>.bin', async () => {
    const task = taskFor(image, server.url('fw.bin', image.bytes), { md5: undefined });
    const result = await downloadFirmware(task, { dir });

    expect(result).toEqual({
      path: join(dir, 'MCU-2.0.0.bin'),
      size: image.bytes.length,
      sha256: image.sha256,
      md5: image.md5,
      resumedFrom: 0,
    });
    expect((await readFile(result.path)).equals(image.bytes)).toBe(true); // toEqual on 256 KiB is slow
    expect(await readdir(dir)).toEqual(['MCU-2.0.0.bin']); // no partial, no checkpoint left
  });

  it('downloads and verifies an md5 task (Aliyun signMethod Md5, Tencent md5sum)', async () => {
    const task = taskFor(image, server.url('fw.bin', image.bytes), {
      digestAlgorithm: 'md5',
      sha256: undefined,
    });
    const result = await downloadFirmware(task, { dir });
    expect(result.md5).toBe(image.md5);
  });

  it('asks for raw bytes, never compression', async () => {
    await downloadFirmware(taskFor(image, server.url('fw.bin', image.bytes)), { dir });
    expect(server.requests[0]?.acceptEncoding).toBe('identity');
    expect(server.requests[0]?.range).toBeUndefined();
  });

  it('downloads through an injected fetch instead, and resumes through it', async () => {
    const task = taskFor(image, server.url('fw.bin', image.bytes));
    server.next({ dropAfterBytes: image.bytes.length / 2 });
    expect((await failure(downloadFirmware(task, { dir, fetchImpl: fetch }))).code).toBe('download_failed');
    const result = await downloadFirmware(task, { dir, fetchImpl: fetch });
    expect(result.resumedFrom).toBeGreaterThan(0);
    expect(server.requests[1]?.range).toBe(`bytes=${result.resumedFrom}-`);
    expect((await readFile(result.path)).equals(image.bytes)).toBe(true);
  });

  it('creates a missing data directory', async () => {
    const nested = join(dir, 'a', 'b');
    const result = await downloadFirmware(taskFor(image, server.url('fw.bin', image.bytes)), { dir: nested });
    expect(result.path).toBe(join(nested, 'MCU-2.0.0.bin'));
    expect((await readFile(result.path)).equals(image.bytes)).toBe(true);
  });

  it('downloads an empty file', async () => {
    const empty = firmwareImage(0);
    const result = await downloadFirmware(taskFor(empty, server.url('empty.bin', empty.bytes)), { dir });
    expect(result.size).toBe(0);
  });

  it('reports throttled, monotonic progress ending at 100', async () => {
    const reports: number[] = [];
    await downloadFirmware(taskFor(image, server.url('fw.bin', image.bytes)), {
      dir,
      // Time stands still: after the first report, a crossed boundary waits for the second to be up.
      now: () => 0,
      onProgress: (percent) => reports.push(percent),
    });
    expect(reports[0]).toBe(0);
    expect(reports.at(-1)).toBe(100);
    expect(reports.length).toBeLessThanOrEqual(11);
    for (let i = 1; i < reports.length; i++) {
      expect(reports[i]).toBeGreaterThan(reports[i - 1] ?? 0);
      expect(Math.floor((reports[i] ?? 0) / 10)).toBeGreaterThan(Math.floor((reports[i - 1] ?? 0) / 10));
    }
  });
});

describe('downloadFirmware: verification', () => {
  it('fails with verify_failed on corrupted bytes and leaves nothing behind', async () => {
    server.next({ corrupt: true });
    const error = await failure(downloadFirmware(taskFor(image, server.url('fw.bin', image.bytes)), { dir }));
    expect(error.code).toBe('verify_failed');
    expect(await readdir(dir)).toEqual([]);
  });

  it('verifies both digests when the task carries both', async () => {
    const task = taskFor(image, server.url('fw.bin', image.bytes), {
      digestAlgorithm: 'md5',
      sha256: firmwareImage(10).sha256,
    });
    expect((await failure(downloadFirmware(task, { dir }))).code).toBe('verify_failed');
    expect(await readdir(dir)).toEqual([]);
  });

  it('fails with verify_failed when the server file is not the size the task says', async () => {
    const task = taskFor(image, server.url('fw.bin', image.bytes), { size: image.bytes.length + 1 });
    expect((await failure(downloadFirmware(task, { dir }))).code).toBe('verify_failed');
  });

  it('refuses a task that names a digest it does not carry', async () => {
    const task = taskFor(image, server.url('fw.bin', image.bytes), { sha256: undefined });
    expect((await failure(downloadFirmware(task, { dir }))).code).toBe('other');
    expect(server.requests).toHaveLength(0);
  });

  describe('ed25519 package signature', () => {
    const key = signingKey();

    it('accepts a valid signature, with the key as PEM or as raw base64', async () => {
      const task = taskFor(image, server.url('fw.bin', image.bytes), { signature: key.sign(image.sha256) });
      await downloadFirmware(task, { dir, publicKey: key.publicKeyPem });
      await downloadFirmware(task, { dir, publicKey: key.publicKeyRaw });
    });

    it('rejects a signature by another key, and leaves nothing behind', async () => {
      const task = taskFor(image, server.url('fw.bin', image.bytes), {
        signature: signingKey().sign(image.sha256),
      });
      expect((await failure(downloadFirmware(task, { dir, publicKey: key.publicKeyPem }))).code).toBe(
        'verify_failed',
      );
      expect(await readdir(dir)).toEqual([]);
    });

    it('rejects a signature over another digest, and garbage', async () => {
      for (const signature of [key.sign(firmwareImage(10).sha256), 'bm90IGEgc2lnbmF0dXJl']) {
        const task = taskFor(image, server.url('fw.bin', image.bytes), { signature });
        expect((await failure(downloadFirmware(task, { dir, publicKey: key.publicKeyRaw }))).code).toBe(
          'verify_failed',
        );
      }
    });

    it('rejects an unsigned task when the device has a key (stripping the signature is no bypass)', async () => {
      const task = taskFor(image, server.url('fw.bin', image.bytes));
      expect((await failure(downloadFirmware(task, { dir, publicKey: key.publicKeyPem }))).code).toBe(
        'verify_failed',
      );
    });

    it('refuses a key that is not an ed25519 public key before downloading', async () => {
      const task = taskFor(image, server.url('fw.bin', image.bytes));
      await expect(downloadFirmware(task, { dir, publicKey: 'c2hvcnQ=' })).rejects.toThrow(TypeError);
      expect(server.requests).toHaveLength(0);
    });
  });
});

describe('downloadFirmware: HTTP failures', () => {
  it('maps 403 to url_expired and 404 to not_found', async () => {
    server.next({ status: 403 }, { status: 404 });
    const task = taskFor(image, server.url('fw.bin', image.bytes));
    const expired = await failure(downloadFirmware(task, { dir }));
    expect([expired.code, expired.status]).toEqual(['url_expired', 403]);
    expect((await failure(downloadFirmware(task, { dir }))).code).toBe('not_found');
  });

  it('maps other statuses to download_failed', async () => {
    server.next({ status: 503 });
    expect(
      (await failure(downloadFirmware(taskFor(image, server.url('fw.bin', image.bytes)), { dir }))).code,
    ).toBe('download_failed');
  });

  it('requires a Content-Length (no chunked transfer, as LinkSDK)', async () => {
    server.next({ chunked: true });
    const error = await failure(downloadFirmware(taskFor(image, server.url('fw.bin', image.bytes)), { dir }));
    expect([error.code, error.message]).toEqual(['download_failed', 'response has no valid Content-Length']);
  });

  it('maps a refused connection to download_failed', async () => {
    const task = taskFor(image, server.url('fw.bin', image.bytes));
    await server.close();
    expect((await failure(downloadFirmware(task, { dir }))).code).toBe('download_failed');
    server = await startFirmwareServer(); // for afterEach
  });
});

describe('downloadFirmware: local failures', () => {
  it('maps a data directory it cannot use to other', async () => {
    const notADirectory = join(dir, 'plain-file');
    await writeFile(notADirectory, 'x');
    const task = taskFor(image, server.url('fw.bin', image.bytes));
    expect((await failure(downloadFirmware(task, { dir: notADirectory }))).code).toBe('other');
  });
});

describe('downloadFirmware: bandwidth cap', () => {
  it('paces the download at the configured rate, in virtual time', async () => {
    const clock = virtualClock();
    const rate = 64 * 1024;
    await downloadFirmware(taskFor(image, server.url('fw.bin', image.bytes)), {
      dir,
      bandwidthBytesPerSecond: rate,
      bandwidthClock: clock,
    });
    // 256 KiB at 64 KiB/s with a burst of a tenth of a second: at least 3.9 virtual seconds of waiting.
    const waited = clock.sleeps.reduce((sum, ms) => sum + ms, 0);
    expect(waited).toBeGreaterThanOrEqual(((image.bytes.length - rate / 10) / rate) * 1000 - 1e-6);
    expect(clock.sleeps.length).toBeGreaterThanOrEqual(39);
  });

  it('does not wait at all without a cap', async () => {
    const clock = virtualClock();
    await downloadFirmware(taskFor(image, server.url('fw.bin', image.bytes)), { dir, bandwidthClock: clock });
    expect(clock.sleeps).toEqual([]);
  });
});
