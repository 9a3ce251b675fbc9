import { createHash, randomBytes, verify } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer, uniqueProductKey } from '../src/testing/test-server.js';
import { signDownloadUrl } from '../src/transport/http/download/download-url.js';
import { uploadFirmware } from './firmware-upload.js';

const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** All files the blob store holds, including unfinished uploads. */
async function storedFiles(t: TestServer): Promise<string[]> {
  const root = join(t.config.dataDir, 'firmware');
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => e.name);
}

describe('firmware packages and signed downloads', () => {
  let t: TestServer;
  const pk = uniqueProductKey(11);
  const bytes = randomBytes(3 * 1024 * 1024 + 17);
  let firmware: { id: number; size: number; md5: string; sha256: string; fileName: string };
  let url: string;

  beforeAll(async () => {
    t = await startTestServer();
    await t.api('POST', '/api/v1/products', { key: pk, name: 'fw', dialect: 'aliyun', signing: true });
    const uploaded = await uploadFirmware(
      t,
      pk,
      { version: '2.0.0', sourceVersions: '1.0.0, 1.1.0' },
      bytes,
      'lamp 2.0.bin',
    );
    expect(uploaded.status).toBe(201);
    firmware = uploaded.body as typeof firmware;
    url = (await t.api<{ url: string }>('POST', `/api/v1/firmware/${firmware.id}/download-url`)).body.url;
  });
  afterAll(() => t?.close());

  it('computes size, md5 and sha256 while streaming the upload', () => {
    expect(firmware).toMatchObject({
      size: bytes.length,
      md5: md5(bytes),
      sha256: sha256(bytes),
      fileName: 'lamp 2.0.bin',
    });
    expect((firmware as unknown as { sourceVersions: string[] }).sourceVersions).toEqual(['1.0.0', '1.1.0']);
  });

  it('signs the sha256 with the product key so devices can verify it', async () => {
    const product = await t.api<{ signingPublicKey: string }>('GET', `/api/v1/products/${pk}`);
    const signature = (firmware as unknown as { signature: string }).signature;
    expect(
      verify(
        null,
        Buffer.from(firmware.sha256),
        product.body.signingPublicKey,
        Buffer.from(signature, 'base64'),
      ),
    ).toBe(true);
  });

  it('serves the whole file byte-exact with the download headers', async () => {
    const response = await fetch(url, { headers: { 'accept-encoding': 'gzip, deflate' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-length')).toBe(String(bytes.length));
    expect(response.headers.get('etag')).toBe(`"${firmware.sha256}"`);
    expect(response.headers.get('accept-ranges')).toBe('bytes');
    expect(response.headers.get('content-encoding')).toBeNull();
    expect(Buffer.from(await response.arrayBuffer()).equals(bytes)).toBe(true);
  });

  it('reassembles random ranges byte-exact', async () => {
    const parts: Buffer[] = [];
    let start = 0;
    while (start < bytes.length) {
      const end = Math.min(bytes.length - 1, start + Math.floor(Math.random() * 400_000));
      const response = await fetch(url, { headers: { range: `bytes=${start}-${end}` } });
      expect(response.status).toBe(206);
      expect(response.headers.get('content-range')).toBe(`bytes ${start}-${end}/${bytes.length}`);
      parts.push(Buffer.from(await response.arrayBuffer()));
      start = end + 1;
    }
    expect(Buffer.concat(parts).equals(bytes)).toBe(true);
  });

  it('resumes from the middle, and clamps the Tencent-style end one past the last byte', async () => {
    const middle = Math.floor(bytes.length / 2);
    const open = await fetch(url, { headers: { range: `bytes=${middle}-` } });
    expect(Buffer.from(await open.arrayBuffer()).equals(bytes.subarray(middle))).toBe(true);
    const tencent = await fetch(url, { headers: { range: `bytes=${middle}-${bytes.length}` } });
    expect(tencent.status).toBe(206);
    expect(tencent.headers.get('content-range')).toBe(`bytes ${middle}-${bytes.length - 1}/${bytes.length}`);
    expect(Buffer.from(await tencent.arrayBuffer()).equals(bytes.subarray(middle))).toBe(true);
    const past = await fetch(url, { headers: { range: `bytes=${bytes.length + 1}-` } });
    expect(past.status).toBe(416);
  });

  it('answers 403 to an expired or tampered URL', async () => {
    const secret = (
      await t.server.store.db
        .selectFrom('settings')
        .select('value')
        .where('key', '=', 'download_url_secret')
        .executeTakeFirstOrThrow()
    ).value;
    const expired = signDownloadUrl({
      baseUrl: t.server.httpUrl,
      firmwareId: String(firmware.id),
      fileName: firmware.fileName,
      expiresAt: new Date(Date.now() - 1000),
      secret,
    });
    const expiredResponse = await fetch(expired);
    expect(expiredResponse.status).toBe(403);
    expect(await expiredResponse.json()).toMatchObject({ code: 'ALOFT_DOWNLOAD_URL_EXPIRED' });
    const tampered = url.replace(/sig=([0-9a-f])/, (_m, c: string) => `sig=${c === '0' ? '1' : '0'}`);
    const tamperedResponse = await fetch(tampered);
    expect(tamperedResponse.status).toBe(403);
    expect(await tamperedResponse.json()).toMatchObject({ code: 'ALOFT_DOWNLOAD_BAD_SIGNATURE' });
    const otherId = url.replace(`/download/${firmware.id}/`, `/download/${firmware.id + 1}/`);
    expect((await fetch(otherId)).status).toBe(403);
  });

  it('refuses a duplicate version with 409', async () => {
    const again = await uploadFirmware(t, pk, { version: '2.0.0' }, randomBytes(10));
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'ALOFT_FIRMWARE_EXISTS' });
  });

  it('rejects an upload whose expected md5 does not match and keeps nothing', async () => {
    const before = await storedFiles(t);
    const wrong = await uploadFirmware(
      t,
      pk,
      { version: '2.0.1', md5: md5(Buffer.from('something else')) },
      randomBytes(200_000),
    );
    expect(wrong.status).toBe(422);
    expect(wrong.body).toMatchObject({ code: 'ALOFT_FIRMWARE_DIGEST_MISMATCH' });
    expect(await storedFiles(t)).toEqual(before);
    expect((await t.api<{ total: number }>('GET', `/api/v1/firmware?productKey=${pk}`)).body.total).toBe(1);
  });

  it('stores concurrent uploads of different packages intact', async () => {
    const packages = Array.from({ length: 6 }, (_, i) => ({
      version: `3.0.${i}`,
      bytes: randomBytes(500_000 + i),
    }));
    const results = await Promise.all(
      packages.map((p) => uploadFirmware(t, pk, { version: p.version, sha256: sha256(p.bytes) }, p.bytes)),
    );
    for (const [i, r] of results.entries()) {
      expect(r.status).toBe(201);
      expect(r.body).toMatchObject({ version: packages[i]!.version, sha256: sha256(packages[i]!.bytes) });
      const file = await fetch(`${t.server.httpUrl}/api/v1/firmware/${r.body.id}/file`, {
        headers: { authorization: 'Bearer test-admin-token-0123456789' },
      });
      expect(sha256(Buffer.from(await file.arrayBuffer()))).toBe(sha256(packages[i]!.bytes));
    }
  });

  it('refuses to delete a package an unfinished job uses, then deletes it and its file: 404 after', async () => {
    const pkg = await uploadFirmware(t, pk, { version: '4.0.0' }, randomBytes(1000));
    const id = pkg.body.id as number;
    const pkgUrl = (await t.api<{ url: string }>('POST', `/api/v1/firmware/${id}/download-url`)).body.url;
    await t.api('POST', `/api/v1/products/${pk}/devices`, { name: 'holder' });
    const job = await t.api<{ id: number }>('POST', '/api/v1/jobs/single', {
      firmwareId: id,
      deviceName: 'holder',
    });
    expect(job.status).toBe(201);
    const refused = await t.api('DELETE', `/api/v1/firmware/${id}`);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ code: 'ALOFT_FIRMWARE_IN_USE' });
    expect((await fetch(pkgUrl)).status).toBe(200);

    await t.api('POST', `/api/v1/jobs/${job.body.id}/cancel`);
    const filesBefore = (await storedFiles(t)).length;
    expect((await t.api('DELETE', `/api/v1/firmware/${id}`)).status).toBe(204);
    expect((await storedFiles(t)).length).toBe(filesBefore - 1);
    const gone = await fetch(pkgUrl);
    expect(gone.status).toBe(404);
    expect(await gone.json()).toMatchObject({ code: 'ALOFT_DOWNLOAD_NOT_FOUND' });
  });

  describe('externally hosted packages', () => {
    let fileServer: Server;
    let base: string;
    const external = randomBytes(70_000);

    beforeAll(async () => {
      fileServer = createServer((_req, res) => res.end(external));
      await new Promise<void>((r) => fileServer.listen(0, '127.0.0.1', r));
      base = `http://127.0.0.1:${(fileServer.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((r) => fileServer.close(() => r())));

    it('registers a URL, checks it once, and hands it out unchanged', async () => {
      const ok = await t.api<{ id: number }>('POST', `/api/v1/products/${pk}/firmware/external`, {
        version: '5.0.0',
        url: `${base}/fw/5.0.0.bin`,
        size: external.length,
        md5: md5(external),
        check: true,
      });
      expect(ok.status).toBe(201);
      expect(
        (await t.api<{ url: string }>('POST', `/api/v1/firmware/${ok.body.id}/download-url`)).body.url,
      ).toBe(`${base}/fw/5.0.0.bin`);
      const bad = await t.api('POST', `/api/v1/products/${pk}/firmware/external`, {
        version: '5.0.1',
        url: `${base}/fw/5.0.1.bin`,
        size: external.length,
        md5: md5(Buffer.from('not it')),
        check: true,
      });
      expect(bad.status).toBe(400);
      expect(bad.body).toMatchObject({ code: 'ALOFT_FIRMWARE_UPLOAD_INVALID' });
    });
  });
});
