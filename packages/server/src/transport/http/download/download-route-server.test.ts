import { mkdtemp, rm } from 'node:fs/promises';
import { type IncomingHttpHeaders, type IncomingMessage, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import Fastify from 'fastify';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FilesystemBlobStore } from '../../../blobs/filesystem-blob-store.js';
import { downloadRoute } from './download-route.js';
import { signDownloadUrl } from './download-url.js';
import {
  BODY_SOURCES,
  createDownloadFixture,
  type DownloadFixture,
  descriptorsOpenOn,
  SECRET,
  sha256,
} from './testing/download-fixture.js';

describe.each(BODY_SOURCES)('download route over a real socket (%s body)', (source) => {
  let fx: DownloadFixture | undefined;
  afterEach(async () => {
    await fx?.close();
    fx = undefined;
  });

  async function listen(size: number): Promise<{ fx: DownloadFixture; baseUrl: string }> {
    fx = await createDownloadFixture({ size, source });
    await fx.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = fx.app.server.address() as AddressInfo;
    return { fx, baseUrl: `http://127.0.0.1:${port}` };
  }

  it('downloads the whole file byte-exact and reports it as served', async () => {
    const { fx, baseUrl } = await listen(3 * 1024 * 1024 + 17);
    const res = await get(fx.signedUrl({ baseUrl }));
    expect(res.status).toBe(200);
    expect(res.headers['content-length']).toBe(String(fx.bytes.length));
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(sha256(res.body)).toBe(fx.firmware.sha256);
    await vi.waitFor(() =>
      expect(fx.served).toEqual([
        { firmwareId: fx.firmware.id, method: 'GET', status: 200, range: undefined, completed: true },
      ]),
    );
    await vi.waitFor(async () => expect(await descriptorsOpenOn(fx.blobPath)).toBe(0));
  });

  it('resumes an interrupted download from where it stopped', async () => {
    const { fx, baseUrl } = await listen(2 * 1024 * 1024);
    const url = fx.signedUrl({ baseUrl });
    const first = await get(url, { range: 'bytes=0-1234566' });
    expect(first.status).toBe(206);
    const rest = await get(url, { range: `bytes=${first.body.length}-${fx.bytes.length}` });
    expect(rest.status).toBe(206);
    expect(rest.headers['content-range']).toBe(`bytes 1234567-${fx.bytes.length - 1}/${fx.bytes.length}`);
    expect(sha256(Buffer.concat([first.body, rest.body]))).toBe(fx.firmware.sha256);
    await vi.waitFor(() =>
      expect(fx.served.map((event) => event.range)).toEqual([
        { start: 0, end: 1234566 },
        { start: 1234567, end: fx.bytes.length - 1 },
      ]),
    );
  });

  it('keeps concurrent downloads apart, including a slow reader', async () => {
    const { fx, baseUrl } = await listen(4 * 1024 * 1024 + 5);
    const url = fx.signedUrl({ baseUrl });
    const [slow, ...fast] = await Promise.all([
      get(url, {}, { pauseMsPerChunk: 2 }),
      get(url),
      get(url, { range: 'bytes=1000000-' }),
      get(url, { range: 'bytes=-3000000' }),
    ]);
    expect(sha256(slow!.body)).toBe(fx.firmware.sha256);
    expect(sha256(fast[0]!.body)).toBe(fx.firmware.sha256);
    expect(sha256(fast[1]!.body)).toBe(sha256(fx.bytes.subarray(1000000)));
    expect(sha256(fast[2]!.body)).toBe(sha256(fx.bytes.subarray(fx.bytes.length - 3000000)));
  });

  it('closes the file when the client disconnects mid-download', async () => {
    // Larger than what loopback socket buffers can absorb, so the server is still streaming when we leave.
    const { fx, baseUrl } = await listen(24 * 1024 * 1024);
    await new Promise<void>((resolve, reject) => {
      const req = request(fx.signedUrl({ baseUrl }), (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', (error) => {
        if (!req.destroyed) reject(error);
      });
      req.end();
    });
    await vi.waitFor(async () => {
      expect(fx.served).toEqual([expect.objectContaining({ status: 200, completed: false })]);
      expect(await descriptorsOpenOn(fx.blobPath)).toBe(0);
    });
  });
});

describe.each(BODY_SOURCES)('download route when the blob vanishes after resolve (%s body)', (source) => {
  it('answers 404 JSON because nothing was sent yet', async () => {
    const root = await mkdtemp(join(tmpdir(), 'aloft-download-'));
    try {
      const store = await FilesystemBlobStore.open({ root });
      const blob = await store.put(Readable.from([Buffer.from('firmware bytes')]));
      const app = Fastify();
      await app.register(downloadRoute, {
        secret: SECRET,
        resolve: async () => ({
          fileName: 'fw.bin',
          size: blob.size,
          sha256: blob.sha256,
          openRead: (range) => store.openRead(blob.key, range),
          ...(source === 'local-file' ? { localPath: store.localPath(blob.key) } : {}),
        }),
      });
      await store.delete(blob.key);
      const url = signDownloadUrl({
        baseUrl: '',
        firmwareId: 'fw-1',
        fileName: 'fw.bin',
        expiresAt: new Date(Date.now() + 60_000),
        secret: SECRET,
      });
      const res = await app.inject({ url });
      expect(res.statusCode).toBe(404);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.headers.etag).toBeUndefined();
      expect(res.json()).toMatchObject({ code: 'ALOFT_DOWNLOAD_NOT_FOUND' });
      await app.close();
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

interface Fetched {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/**
 * node:http rather than fetch: fetch would negotiate and undo compression behind our back.
 * `pauseMsPerChunk` makes a slow reader, so the server's writes back up.
 */
function get(
  url: string,
  headers: Record<string, string> = {},
  options: { pauseMsPerChunk?: number } = {},
): Promise<Fetched> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        if (options.pauseMsPerChunk) {
          res.pause();
          setTimeout(() => res.resume(), options.pauseMsPerChunk);
        }
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
