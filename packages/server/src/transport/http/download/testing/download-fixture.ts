import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import Fastify, { type FastifyInstance } from 'fastify';
import type { ByteRange } from '../../../../blobs/blob-store.js';
import { FilesystemBlobStore } from '../../../../blobs/filesystem-blob-store.js';
import { type DownloadServedEvent, downloadRoute } from '../download-route.js';
import { signDownloadUrl } from '../download-url.js';

export const SECRET = 'test-secret-0123456789abcdef';

/** One firmware package in a real filesystem blob store, served by the download route in a Fastify app. */
export interface DownloadFixture {
  app: FastifyInstance;
  store: FilesystemBlobStore;
  bytes: Buffer;
  firmware: { id: string; fileName: string; blobKey: string; sha256: string };
  /** Where the blob lives on disk. */
  blobPath: string;
  /** Every `onServed` event, in order. */
  served: DownloadServedEvent[];
  /** Every stream the route opened through `openRead` (the `stream` source only). */
  opened: Readable[];
  clock: { now: Date };
  /** A signed path (or URL when `baseUrl` is given), valid for 30 minutes unless told otherwise. */
  signedUrl(options?: { baseUrl?: string; firmwareId?: string; fileName?: string; expiresAt?: Date }): string;
  close(): Promise<void>;
}

/** How the route gets the bytes: the local-file fast path (filesystem store) or a blob store stream. */
export type BodySource = 'local-file' | 'stream';
export const BODY_SOURCES: readonly BodySource[] = ['local-file', 'stream'];

export async function createDownloadFixture(
  options: { size?: number; source?: BodySource; configure?: (app: FastifyInstance) => void } = {},
): Promise<DownloadFixture> {
  const root = await mkdtemp(join(tmpdir(), 'aloft-download-'));
  const store = await FilesystemBlobStore.open({ root });
  const bytes = randomBytes(options.size ?? 200_000);
  const blob = await store.put(Readable.from([bytes]));
  const firmware = { id: 'fw-7', fileName: 'camera v1.2+rc.bin', blobKey: blob.key, sha256: blob.sha256 };
  const served: DownloadServedEvent[] = [];
  const opened: Readable[] = [];
  const clock = { now: new Date('2030-01-01T00:00:00Z') };

  const app = Fastify();
  options.configure?.(app);
  await app.register(downloadRoute, {
    secret: SECRET,
    now: () => clock.now,
    onServed: (event) => served.push(event),
    async resolve(firmwareId) {
      if (firmwareId !== firmware.id) return undefined;
      const stat = await store.stat(firmware.blobKey);
      if (!stat) return undefined;
      return {
        fileName: firmware.fileName,
        size: stat.size,
        sha256: firmware.sha256,
        openRead(range?: ByteRange) {
          const stream = store.openRead(firmware.blobKey, range);
          opened.push(stream);
          return stream;
        },
        ...(options.source === 'stream' ? {} : { localPath: store.localPath(firmware.blobKey) }),
      };
    },
  });
  await app.ready();

  return {
    app,
    store,
    bytes,
    firmware,
    blobPath: store.localPath(firmware.blobKey),
    served,
    opened,
    clock,
    signedUrl(overrides = {}) {
      return signDownloadUrl({
        baseUrl: overrides.baseUrl ?? '',
        firmwareId: overrides.firmwareId ?? firmware.id,
        fileName: overrides.fileName ?? firmware.fileName,
        expiresAt: overrides.expiresAt ?? new Date(clock.now.getTime() + 30 * 60 * 1000),
        secret: SECRET,
      });
    },
    async close() {
      await app.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** How many of this process's file descriptors are open on `path` (Linux `/proc`). */
export async function descriptorsOpenOn(path: string): Promise<number> {
  let count = 0;
  for (const fd of await readdir('/proc/self/fd')) {
    const target = await readlink(`/proc/self/fd/${fd}`).catch(() => undefined);
    if (target === path) count++;
  }
  return count;
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}
