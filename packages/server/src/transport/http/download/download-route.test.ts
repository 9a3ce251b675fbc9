import { Readable } from 'node:stream';
import { createGzip, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  BODY_SOURCES,
  createDownloadFixture,
  type DownloadFixture,
  sha256,
} from './testing/download-fixture.js';

describe.each(BODY_SOURCES)('download route (inject, %s body)', (source) => {
  let fx: DownloadFixture;
  beforeEach(async () => {
    fx = await createDownloadFixture({ size: 200_000, source });
  });
  afterEach(async () => {
    await fx.close();
  });

  it('serves the whole file byte-exact with length, type, ETag and Accept-Ranges', async () => {
    const res = await fx.app.inject({ url: fx.signedUrl() });
    expect(res.statusCode).toBe(200);
    expect(res.headers).toMatchObject({
      'content-type': 'application/octet-stream',
      'content-length': '200000',
      'accept-ranges': 'bytes',
      etag: `"${fx.firmware.sha256}"`,
    });
    expect(res.headers['content-range']).toBeUndefined();
    expect(sha256(res.rawPayload)).toBe(fx.firmware.sha256);
  });

  it('answers HEAD with the GET headers and no body', async () => {
    const res = await fx.app.inject({ method: 'HEAD', url: fx.signedUrl() });
    expect(res.statusCode).toBe(200);
    expect(res.headers).toMatchObject({
      'content-length': '200000',
      'accept-ranges': 'bytes',
      etag: `"${fx.firmware.sha256}"`,
    });
    expect(res.rawPayload.length).toBe(0);
    expect(fx.opened).toHaveLength(0);
  });

  it('answers HEAD with a Range like the GET would', async () => {
    const res = await fx.app.inject({
      method: 'HEAD',
      url: fx.signedUrl(),
      headers: { range: 'bytes=100-' },
    });
    expect(res.statusCode).toBe(206);
    expect(res.headers).toMatchObject({
      'content-length': '199900',
      'content-range': 'bytes 100-199999/200000',
    });
    expect(res.rawPayload.length).toBe(0);
  });

  it('serves a single range with 206 and Content-Range', async () => {
    const res = await fx.app.inject({ url: fx.signedUrl(), headers: { range: 'bytes=1000-1999' } });
    expect(res.statusCode).toBe(206);
    expect(res.headers).toMatchObject({
      'content-length': '1000',
      'content-range': 'bytes 1000-1999/200000',
    });
    expect(res.rawPayload.equals(fx.bytes.subarray(1000, 2000))).toBe(true);
  });

  it('resumes from the middle to the end with an open range', async () => {
    const res = await fx.app.inject({ url: fx.signedUrl(), headers: { range: 'bytes=123456-' } });
    expect(res.statusCode).toBe(206);
    expect(res.headers['content-range']).toBe('bytes 123456-199999/200000');
    expect(res.rawPayload.equals(fx.bytes.subarray(123456))).toBe(true);
  });

  it('clamps a Tencent-style bytes=N-<size> to the last byte', async () => {
    const res = await fx.app.inject({ url: fx.signedUrl(), headers: { range: 'bytes=150000-200000' } });
    expect(res.statusCode).toBe(206);
    expect(res.headers).toMatchObject({
      'content-length': '50000',
      'content-range': 'bytes 150000-199999/200000',
    });
    expect(res.rawPayload.equals(fx.bytes.subarray(150000))).toBe(true);
  });

  it('serves a suffix range bytes=-N as the last N bytes', async () => {
    const res = await fx.app.inject({ url: fx.signedUrl(), headers: { range: 'bytes=-500' } });
    expect(res.statusCode).toBe(206);
    expect(res.headers['content-range']).toBe('bytes 199500-199999/200000');
    expect(res.rawPayload.equals(fx.bytes.subarray(199500))).toBe(true);
  });

  it('answers 416 with Content-Range bytes */size when the range starts past the end', async () => {
    const res = await fx.app.inject({ url: fx.signedUrl(), headers: { range: 'bytes=200000-' } });
    expect(res.statusCode).toBe(416);
    expect(res.headers['content-range']).toBe('bytes */200000');
    expect(res.json()).toMatchObject({ code: 'ALOFT_DOWNLOAD_RANGE_NOT_SATISFIABLE' });
    expect(fx.opened).toHaveLength(0);
  });

  it('serves the whole file for a multi-range request', async () => {
    const res = await fx.app.inject({ url: fx.signedUrl(), headers: { range: 'bytes=0-9,100-109' } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-length']).toBe('200000');
    expect(res.rawPayload.equals(fx.bytes)).toBe(true);
  });

  it('honours If-Range only when it is the current ETag', async () => {
    const matching = await fx.app.inject({
      url: fx.signedUrl(),
      headers: { range: 'bytes=10-19', 'if-range': `"${fx.firmware.sha256}"` },
    });
    expect(matching.statusCode).toBe(206);
    const stale = await fx.app.inject({
      url: fx.signedUrl(),
      headers: { range: 'bytes=10-19', 'if-range': `"${'0'.repeat(64)}"` },
    });
    expect(stale.statusCode).toBe(200);
    expect(stale.rawPayload.equals(fx.bytes)).toBe(true);
  });

  it('reassembles random ranges into the exact file', async () => {
    const size = fx.bytes.length;
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.integer({ min: 1, max: size - 1 }), { maxLength: 6 }),
        async (cuts) => {
          const bounds = [0, ...cuts.sort((a, b) => a - b), size];
          const parts: Buffer[] = [];
          for (let i = 0; i + 1 < bounds.length; i++) {
            const [start, next] = [bounds[i]!, bounds[i + 1]!];
            const res = await fx.app.inject({
              url: fx.signedUrl(),
              headers: { range: `bytes=${start}-${next - 1}` },
            });
            expect(res.statusCode).toBe(206);
            expect(res.headers['content-length']).toBe(String(next - start));
            parts.push(res.rawPayload);
          }
          expect(sha256(Buffer.concat(parts))).toBe(fx.firmware.sha256);
        },
      ),
      { numRuns: 20, seed: 20_240_601 },
    );
  });

  it('never compresses, even with Accept-Encoding gzip', async () => {
    const res = await fx.app.inject({
      url: fx.signedUrl(),
      headers: { 'accept-encoding': 'gzip, deflate, br' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(res.headers['content-length']).toBe('200000');
    expect(res.rawPayload.equals(fx.bytes)).toBe(true);
  });

  it('answers 403 ALOFT_DOWNLOAD_URL_EXPIRED once the expiry second is reached', async () => {
    const url = fx.signedUrl({ expiresAt: new Date(fx.clock.now.getTime() + 60_000) });
    fx.clock.now = new Date(fx.clock.now.getTime() + 60_000);
    const res = await fx.app.inject({ url });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toEqual({ code: 'ALOFT_DOWNLOAD_URL_EXPIRED', message: expect.any(String) });
  });

  it('answers 403 ALOFT_DOWNLOAD_BAD_SIGNATURE for a tampered signature', async () => {
    const url = fx.signedUrl();
    const sig = /sig=([0-9a-f]+)/.exec(url)![1]!;
    const flipped = (sig[0] === 'a' ? 'b' : 'a') + sig.slice(1);
    const res = await fx.app.inject({ url: url.replace(sig, flipped) });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toEqual({ code: 'ALOFT_DOWNLOAD_BAD_SIGNATURE', message: expect.any(String) });
  });

  it('answers 403 when the expiry is pushed back without re-signing', async () => {
    const url = fx.signedUrl();
    const res = await fx.app.inject({
      url: url.replace(/expires=(\d+)/, (_, s) => `expires=${Number(s) + 3600}`),
    });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ code: 'ALOFT_DOWNLOAD_BAD_SIGNATURE' });
  });

  it('answers 403 when the signature of one firmware is used for another id or file name', async () => {
    const query = fx.signedUrl().split('?')[1];
    for (const path of [
      `/download/fw-8/${encodeURIComponent(fx.firmware.fileName)}`,
      `/download/${fx.firmware.id}/other.bin`,
    ]) {
      const res = await fx.app.inject({ url: `${path}?${query}` });
      expect(res.statusCode).toBe(403);
      expect(res.json()).toMatchObject({ code: 'ALOFT_DOWNLOAD_BAD_SIGNATURE' });
    }
  });

  it('answers 403 when the signature or expiry is missing or repeated', async () => {
    const url = fx.signedUrl();
    const [path, query] = url.split('?') as [string, string];
    const sig = new URLSearchParams(query).get('sig')!;
    const expires = new URLSearchParams(query).get('expires')!;
    for (const bad of [path, `${path}?sig=${sig}`, `${path}?expires=${expires}`, `${url}&sig=${sig}`]) {
      const res = await fx.app.inject({ url: bad });
      expect(res.statusCode).toBe(403);
    }
  });

  it('answers 404 ALOFT_DOWNLOAD_NOT_FOUND when the firmware is gone', async () => {
    const url = fx.signedUrl();
    await fx.store.delete(fx.firmware.blobKey);
    const res = await fx.app.inject({ url });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ code: 'ALOFT_DOWNLOAD_NOT_FOUND', message: expect.any(String) });
  });

  it('answers 404 for a validly signed URL of an unknown firmware id', async () => {
    const res = await fx.app.inject({ url: fx.signedUrl({ firmwareId: 'fw-unknown' }) });
    expect(res.statusCode).toBe(404);
  });

  it('answers 404 for a validly signed URL naming another file of the firmware', async () => {
    const res = await fx.app.inject({ url: fx.signedUrl({ fileName: 'renamed.bin' }) });
    expect(res.statusCode).toBe(404);
  });

  it('accepts file names longer than the route parameter limit and with encoded slashes', async () => {
    for (const fileName of ['x'.repeat(180), 'dir/with?odd#chars.bin']) {
      const res = await fx.app.inject({ method: 'HEAD', url: fx.signedUrl({ fileName }) });
      // The signature is valid, so it gets past the 403; the fixture's firmware has another name.
      expect(res.statusCode).toBe(404);
    }
  });
});

describe.each(BODY_SOURCES)('download route behind a compressing onSend hook (%s body)', (source) => {
  let fx: DownloadFixture;
  beforeEach(async () => {
    fx = await createDownloadFixture({
      size: 50_000,
      source,
      // Stands in for @fastify/compress registered globally by the composition root.
      configure: (app) =>
        app.addHook('onSend', async (_request, reply, payload) => {
          reply.header('content-encoding', 'gzip');
          reply.removeHeader('content-length');
          if (payload instanceof Readable) return payload.pipe(createGzip());
          return gzipSync(payload as string | Buffer);
        }),
    });
  });
  afterEach(async () => {
    await fx.close();
  });

  it('still sends the firmware uncompressed with its exact Content-Length', async () => {
    const res = await fx.app.inject({ url: fx.signedUrl(), headers: { 'accept-encoding': 'gzip' } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(res.headers['content-length']).toBe('50000');
    expect(res.rawPayload.equals(fx.bytes)).toBe(true);
  });
});
