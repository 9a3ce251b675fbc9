import { mkdtemp, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { FilesystemBlobStore } from './filesystem-blob-store.js';
import { describeBlobStore } from './testing/blob-store-conformance.js';

describeBlobStore('FilesystemBlobStore', async () => {
  const root = await mkdtemp(join(tmpdir(), 'aloft-blobs-'));
  const store = await FilesystemBlobStore.open({ root });
  return {
    store,
    residue: () => listFiles(root, root),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
});

describe('FilesystemBlobStore', () => {
  const roots: string[] = [];
  afterEach(async () => {
    await Promise.all(roots.splice(0).map((root) => rm(root, { recursive: true, force: true })));
  });
  async function tempRoot(): Promise<string> {
    const root = await mkdtemp(join(tmpdir(), 'aloft-blobs-'));
    roots.push(root);
    return root;
  }

  it('keeps each blob as a plain file named by its key, which localPath returns', async () => {
    const root = await tempRoot();
    const store = await FilesystemBlobStore.open({ root });
    const { key } = await store.put(Readable.from([Buffer.from('firmware')]));
    expect(store.localPath(key)).toBe(join(root, key));
    expect((await stat(join(root, key))).size).toBe(8);
  });

  it('sweeps abandoned temp files at open but keeps recent ones, which may be uploads in progress', async () => {
    const root = await tempRoot();
    await FilesystemBlobStore.open({ root });
    const incoming = join(root, '.incoming');
    await writeFile(join(incoming, 'abandoned.part'), 'half');
    await writeFile(join(incoming, 'in-progress.part'), 'half');
    const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
    await utimes(join(incoming, 'abandoned.part'), twoHoursAgo, twoHoursAgo);

    await FilesystemBlobStore.open({ root });

    expect(await readdir(incoming)).toEqual(['in-progress.part']);
  });

  it('judges staleness by the injected clock', async () => {
    const root = await tempRoot();
    await FilesystemBlobStore.open({ root });
    await writeFile(join(root, '.incoming', 'x.part'), 'half');
    await FilesystemBlobStore.open({ root, staleTempAfterMs: 60_000, now: () => Date.now() + 61_000 });
    expect(await readdir(join(root, '.incoming'))).toEqual([]);
  });

  it('reports a failing disk as the disk error, not as an incomplete upload', async () => {
    const root = await tempRoot();
    const store = await FilesystemBlobStore.open({ root });
    await rm(join(root, '.incoming'), { recursive: true });
    await expect(store.put(Readable.from([Buffer.from('firmware')]))).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });
});

async function listFiles(dir: string, root: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await listFiles(path, root)));
    else found.push(relative(root, path));
  }
  return found;
}
