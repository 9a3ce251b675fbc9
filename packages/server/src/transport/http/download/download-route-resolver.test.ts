import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { BlobStore } from '../../../blobs/blob-store.js';
import { FilesystemBlobStore } from '../../../blobs/filesystem-blob-store.js';
import { openStore, type Store } from '../../../store/database.js';
import { FirmwareStore } from '../../../store/firmware-store.js';
import { ProductStore } from '../../../store/product-store.js';
import { createDownloadResolver, DEFAULT_RESOLVE_CACHE_MS } from './download-resolver.js';
import { downloadRoute } from './download-route.js';
import { signDownloadUrl } from './download-url.js';
import { BODY_SOURCES, SECRET, sha256 } from './testing/download-fixture.js';

/**
 * The route wired as main.ts wires it: the cached resolver over the SQL firmware store and the filesystem blob
 * store. What the cache must not change: a bad URL is refused before any lookup, and a deleted package stops
 * being served at once even while its row is still remembered.
 */
describe.each(BODY_SOURCES)('download route with the cached resolver (%s body)', (source) => {
  let root: string;
  let store: Store;
  let firmwareStore: FirmwareStore;
  let blobs: FilesystemBlobStore;
  let app: FastifyInstance;
  let clock: { now: number };
  let firmware: { id: number; fileName: string; blobKey: string; sha256: string };
  const bytes = Buffer.from('firmware bytes '.repeat(1000));
  const wallClock = new Date('2030-01-01T00:00:00Z');

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'aloft-download-resolver-'));
    store = await openStore({ url: ':memory:' });
    firmwareStore = new FirmwareStore(store.db);
    blobs = await FilesystemBlobStore.open({ root });
    await new ProductStore(store.db).create(
      { key: 'lamp', name: 'Lamp', dialect: 'aliyun', signingPublicKey: null, signingPrivateKey: null },
      0,
    );
    const blob = await blobs.put(Readable.from([bytes]));
    const row = await firmwareStore.create(
      {
        productKey: 'lamp',
        module: 'default',
        version: '2.0.0',
        description: '',
        sourceVersions: [],
        fileName: 'lamp 2.0.bin',
        size: blob.size,
        md5: blob.md5,
        sha256: blob.sha256,
        blobKey: blob.key,
        externalUrl: null,
        signature: null,
      },
      0,
    );
    firmware = { id: row.id, fileName: row.fileName, blobKey: blob.key, sha256: blob.sha256 };
    clock = { now: 0 };
    app = Fastify();
    await app.register(downloadRoute, {
      secret: SECRET,
      now: () => wallClock,
      resolve: createDownloadResolver({
        firmware: firmwareStore,
        blobs: source === 'local-file' ? blobs : withoutLocalFiles(blobs),
        now: () => clock.now,
      }),
    });
    await app.ready();
  });
  afterEach(async () => {
    await app.close();
    await store.close();
    await rm(root, { recursive: true, force: true });
  });

  const url = (overrides: { expiresAt?: Date; firmwareId?: string } = {}) =>
    signDownloadUrl({
      baseUrl: '',
      firmwareId: overrides.firmwareId ?? String(firmware.id),
      fileName: firmware.fileName,
      expiresAt: overrides.expiresAt ?? new Date(wallClock.getTime() + 60_000),
      secret: SECRET,
    });

  /** Deletes the package as FirmwareService.delete does: the row, then the blob. */
  const deletePackage = async () => {
    await firmwareStore.delete(firmware.id);
    await blobs.delete(firmware.blobKey);
  };

  it('serves the package, whole and by range, looking it up once', async () => {
    const get = vi.spyOn(firmwareStore, 'get');
    const stat = vi.spyOn(blobs, 'stat');
    const whole = await app.inject({ url: url() });
    expect(whole.statusCode).toBe(200);
    expect(whole.headers.etag).toBe(`"${firmware.sha256}"`);
    expect(sha256(whole.rawPayload)).toBe(firmware.sha256);
    const part = await app.inject({ url: url(), headers: { range: 'bytes=15-29' } });
    expect(part.statusCode).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 15-29/${bytes.length}`);
    expect(part.rawPayload.equals(bytes.subarray(15, 30))).toBe(true);
    expect(get).toHaveBeenCalledTimes(1);
    expect(stat).toHaveBeenCalledTimes(1);
  });

  it('refuses a forged, expired or re-targeted URL with 403 before any lookup', async () => {
    const get = vi.spyOn(firmwareStore, 'get');
    const stat = vi.spyOn(blobs, 'stat');
    const valid = url();
    const sig = /sig=([0-9a-f]+)/.exec(valid)![1]!;
    const forged = valid.replace(sig, (sig[0] === 'a' ? 'b' : 'a') + sig.slice(1));
    const expired = url({ expiresAt: wallClock });
    const otherId = valid.replace(`/download/${firmware.id}/`, `/download/${firmware.id + 1}/`);
    for (const [bad, code] of [
      [forged, 'ALOFT_DOWNLOAD_BAD_SIGNATURE'],
      [expired, 'ALOFT_DOWNLOAD_URL_EXPIRED'],
      [otherId, 'ALOFT_DOWNLOAD_BAD_SIGNATURE'],
    ] as const) {
      for (const method of ['GET', 'HEAD'] as const) {
        const res = await app.inject({ method, url: bad });
        expect(res.statusCode).toBe(403);
        if (method === 'GET') expect(res.json()).toMatchObject({ code });
      }
    }
    expect(get).not.toHaveBeenCalled();
    expect(stat).not.toHaveBeenCalled();
  });

  it('stops serving a deleted package at once, although the resolver still remembers it', async () => {
    expect((await app.inject({ url: url() })).statusCode).toBe(200);
    const get = vi.spyOn(firmwareStore, 'get');
    await deletePackage();

    const res = await app.inject({ url: url() });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers.etag).toBeUndefined();
    expect(res.json()).toMatchObject({ code: 'ALOFT_DOWNLOAD_NOT_FOUND' });
    const resumed = await app.inject({ url: url(), headers: { range: 'bytes=100-' } });
    expect(resumed.statusCode).toBe(404);
    // The 404s came from opening the vanished blob, not from a fresh lookup.
    expect(get).not.toHaveBeenCalled();
  });

  it('forgets a deleted package once the cache time has passed, HEAD included', async () => {
    expect((await app.inject({ method: 'HEAD', url: url() })).statusCode).toBe(200);
    await deletePackage();
    clock.now += DEFAULT_RESOLVE_CACHE_MS;
    const res = await app.inject({ method: 'HEAD', url: url() });
    expect(res.statusCode).toBe(404);
  });

  it('answers 404 for a validly signed URL of a firmware id that does not exist', async () => {
    const res = await app.inject({ url: url({ firmwareId: String(firmware.id + 100) }) });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ code: 'ALOFT_DOWNLOAD_NOT_FOUND' });
  });
});

/** The filesystem store seen as one without local files (an object store): the route pipes `openRead`. */
function withoutLocalFiles(blobs: FilesystemBlobStore): BlobStore {
  return {
    put: (source, expect) => blobs.put(source, expect),
    stat: (key) => blobs.stat(key),
    openRead: (key, range) => blobs.openRead(key, range),
    delete: (key) => blobs.delete(key),
  };
}
