import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import type { Firmware } from '../../../app/ports/firmware-repository.js';
import type { BlobStore, StoredBlob } from '../../../blobs/blob-store.js';
import { FilesystemBlobStore } from '../../../blobs/filesystem-blob-store.js';
import { createDownloadResolver, DEFAULT_RESOLVE_CACHE_MS } from './download-resolver.js';

/** A firmware row as the store returns it, pointing at `blob`. */
function firmwareRow(id: number, blob: StoredBlob, overrides: Partial<Firmware> = {}): Firmware {
  return {
    id,
    productKey: 'p',
    module: 'default',
    version: `1.0.${id}`,
    description: '',
    sourceVersions: [],
    fileName: `fw-${id}.bin`,
    size: blob.size,
    md5: blob.md5,
    sha256: blob.sha256,
    blobKey: blob.key,
    externalUrl: null,
    signature: null,
    verifyState: 'unverified',
    verifyDetail: null,
    createdAt: 0,
    ...overrides,
  };
}

describe('createDownloadResolver', () => {
  let root: string;
  let blobs: FilesystemBlobStore;
  let blob: StoredBlob;
  let rows: Map<number, Firmware>;
  let clock: { now: number };
  const repository = { get: vi.fn(async (id: number) => rows.get(id)) };
  let stat: MockInstance<FilesystemBlobStore['stat']>;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'aloft-resolver-'));
    blobs = await FilesystemBlobStore.open({ root });
    blob = await blobs.put(Readable.from([Buffer.from('firmware bytes')]));
    rows = new Map([[7, firmwareRow(7, blob)]]);
    clock = { now: 1_000 };
    repository.get.mockClear();
    stat = vi.spyOn(blobs, 'stat');
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const resolver = (cacheMs?: number) =>
    createDownloadResolver({
      firmware: repository,
      blobs,
      now: () => clock.now,
      ...(cacheMs !== undefined ? { cacheMs } : {}),
    });

  it('describes a stored package: row fields, the local path, and a reader of the blob', async () => {
    const found = await resolver()('7');
    expect(found).toMatchObject({
      fileName: 'fw-7.bin',
      size: blob.size,
      sha256: blob.sha256,
      localPath: blobs.localPath(blob.key),
    });
    const chunks: Buffer[] = [];
    for await (const chunk of found!.openRead({ start: 0, end: 7 })) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('firmware');
  });

  it('looks a package up once and reuses it until the cache time has passed', async () => {
    const resolve = resolver();
    const first = await resolve('7');
    clock.now += DEFAULT_RESOLVE_CACHE_MS - 1;
    expect(await resolve('7')).toBe(first);
    expect(repository.get).toHaveBeenCalledTimes(1);
    expect(stat).toHaveBeenCalledTimes(1);

    clock.now += 1;
    const second = await resolve('7');
    expect(second).not.toBe(first);
    expect(second).toMatchObject({ fileName: first!.fileName, size: first!.size, sha256: first!.sha256 });
    expect(repository.get).toHaveBeenCalledTimes(2);
    expect(stat).toHaveBeenCalledTimes(2);
  });

  it('notices a deleted package once the entry has expired', async () => {
    const resolve = resolver(2_000);
    expect(await resolve('7')).toBeDefined();
    rows.delete(7);
    await blobs.delete(blob.key);
    clock.now += 2_000;
    expect(await resolve('7')).toBeUndefined();
  });

  it('shares one lookup between concurrent requests for the same package', async () => {
    const resolve = resolver();
    const results = await Promise.all(Array.from({ length: 20 }, () => resolve('7')));
    expect(new Set(results).size).toBe(1);
    expect(repository.get).toHaveBeenCalledTimes(1);
  });

  it('does not remember a miss: an unknown id or a missing blob is asked again', async () => {
    const resolve = resolver();
    expect(await resolve('8')).toBeUndefined();
    expect(await resolve('8')).toBeUndefined();
    expect(repository.get).toHaveBeenCalledTimes(2);

    await blobs.delete(blob.key);
    expect(await resolve('7')).toBeUndefined();
    const again = await blobs.put(Readable.from([Buffer.from('firmware bytes')]));
    rows.set(7, firmwareRow(7, again));
    expect(await resolve('7')).toMatchObject({ localPath: blobs.localPath(again.key) });
  });

  it('does not remember a failed lookup', async () => {
    const resolve = resolver();
    repository.get.mockRejectedValueOnce(new Error('database is locked'));
    await expect(resolve('7')).rejects.toThrow('database is locked');
    expect(await resolve('7')).toBeDefined();
    expect(repository.get).toHaveBeenCalledTimes(2);
  });

  it('answers undefined for ids that are not database ids, without asking the database', async () => {
    const resolve = resolver();
    for (const id of ['fw-7', '', '1e3', '7 ', '1234567890123456']) expect(await resolve(id)).toBeUndefined();
    expect(repository.get).not.toHaveBeenCalled();
  });

  it('answers undefined for an externally hosted package or one without a sha256', async () => {
    rows.set(8, firmwareRow(8, blob, { blobKey: null, externalUrl: 'https://cdn.example/fw.bin' }));
    rows.set(9, firmwareRow(9, blob, { sha256: null }));
    const resolve = resolver();
    expect(await resolve('8')).toBeUndefined();
    expect(await resolve('9')).toBeUndefined();
  });

  it('looks every request up with cacheMs 0', async () => {
    const resolve = resolver(0);
    await resolve('7');
    await resolve('7');
    expect(repository.get).toHaveBeenCalledTimes(2);
  });

  it('forgets the oldest packages beyond its size bound', async () => {
    for (let id = 100; id < 400; id++) rows.set(id, firmwareRow(id, blob));
    const resolve = resolver();
    for (let id = 100; id < 400; id++) await resolve(String(id));
    repository.get.mockClear();
    await resolve('399');
    expect(repository.get).not.toHaveBeenCalled();
    await resolve('100');
    expect(repository.get).toHaveBeenCalledTimes(1);
  });

  it('serves a blob store without local files through openRead only', async () => {
    const withoutLocalFiles: BlobStore = {
      put: (source, expect) => blobs.put(source, expect),
      stat: (key) => blobs.stat(key),
      openRead: (key, range) => blobs.openRead(key, range),
      delete: (key) => blobs.delete(key),
    };
    const found = await createDownloadResolver({ firmware: repository, blobs: withoutLocalFiles })('7');
    expect(found).toBeDefined();
    expect(found).not.toHaveProperty('localPath');
  });
});
