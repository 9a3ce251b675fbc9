import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
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
  /** Every `onServed` event, in order. */
  served: DownloadServedEvent[];
  /** Every stream the route opened, to check that each gets closed. */
  opened: Readable[];
  clock: { now: Date };
  /** A signed path (or URL when `baseUrl` is given), valid for 30 minutes unless told otherwise. */
  signedUrl(options?: { baseUrl?: string; firmwareId?: string; fileName?: string; expiresAt?: Date }): string;
  close(): Promise<void>;
}

export async function createDownloadFixture(
  options: { size?: number; configure?: (app: FastifyInstance) => void } = {},
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
      };
    },
  });
  await app.ready();

  return {
    app,
    store,
    bytes,
    firmware,
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

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}
