import { describe, expect, it } from 'vitest';
import {
  createHmacDownloadUrlSigner,
  downloadSignature,
  signDownloadUrl,
  verifyDownloadSignature,
} from './download-url.js';

const secret = 'download-secret';
const now = new Date('2030-01-01T00:00:00Z');
const nowSeconds = now.getTime() / 1000;

function parse(url: string): { firmwareId: string; fileName: string; expires: string; sig: string } {
  const parsed = new URL(url);
  const [, route, id, name] = parsed.pathname.split('/');
  expect(route).toBe('download');
  return {
    firmwareId: decodeURIComponent(id!),
    fileName: decodeURIComponent(name!),
    expires: parsed.searchParams.get('expires')!,
    sig: parsed.searchParams.get('sig')!,
  };
}

describe('signDownloadUrl', () => {
  it('builds <base>/download/<id>/<encoded name>?expires=<unix s>&sig=<64 hex>', () => {
    const url = signDownloadUrl({
      baseUrl: 'https://ota.example.com/',
      firmwareId: 'fw 1',
      fileName: 'cam v2/#1.bin',
      expiresAt: new Date(now.getTime() + 1500),
      secret,
    });
    expect(url).toMatch(
      new RegExp(
        `^https://ota\\.example\\.com/download/fw%201/cam%20v2%2F%231\\.bin\\?expires=${nowSeconds + 1}&sig=[0-9a-f]{64}$`,
      ),
    );
  });

  it('produces URLs that verify, with the names decoded as a router would', () => {
    const url = signDownloadUrl({
      baseUrl: 'https://ota.example.com',
      firmwareId: 'fw-1',
      fileName: 'cam v2/#1.bin',
      expiresAt: new Date(now.getTime() + 60_000),
      secret,
    });
    expect(verifyDownloadSignature({ ...parse(url), secret, now })).toBe('ok');
  });
});

describe('verifyDownloadSignature', () => {
  const expires = nowSeconds + 60;
  const valid = {
    firmwareId: 'fw-1',
    fileName: 'a.bin',
    expires: String(expires),
    sig: downloadSignature(secret, 'fw-1', 'a.bin', expires),
    secret,
    now,
  };

  it('accepts a valid signature until the expiry second', () => {
    expect(verifyDownloadSignature(valid)).toBe('ok');
    expect(verifyDownloadSignature({ ...valid, now: new Date((expires - 1) * 1000 + 999) })).toBe('ok');
  });

  it('reports expired from the expiry second on', () => {
    expect(verifyDownloadSignature({ ...valid, now: new Date(expires * 1000) })).toBe('expired');
  });

  it('reports a bad signature before expiry, so a tampered expiry reveals nothing', () => {
    expect(verifyDownloadSignature({ ...valid, expires: String(expires - 120) })).toBe('bad_signature');
  });

  it('binds the firmware id, the file name and the secret', () => {
    expect(verifyDownloadSignature({ ...valid, firmwareId: 'fw-2' })).toBe('bad_signature');
    expect(verifyDownloadSignature({ ...valid, fileName: 'b.bin' })).toBe('bad_signature');
    expect(verifyDownloadSignature({ ...valid, secret: 'other' })).toBe('bad_signature');
  });

  it('does not let id and file name trade characters', () => {
    const sig = downloadSignature(secret, 'fw', '1/a.bin', expires);
    expect(verifyDownloadSignature({ ...valid, firmwareId: 'fw/1', fileName: 'a.bin', sig })).toBe(
      'bad_signature',
    );
  });

  it('rejects malformed, missing or uppercase parameters as bad signatures', () => {
    for (const bad of [
      { sig: undefined },
      { expires: undefined },
      { sig: valid.sig.toUpperCase() },
      { sig: valid.sig.slice(2) },
      { expires: `${expires}.0` },
      { expires: `-${expires}` },
      { expires: '9'.repeat(40) },
    ]) {
      expect(verifyDownloadSignature({ ...valid, ...bad })).toBe('bad_signature');
    }
  });

  it('accepts every secret of a rotation', () => {
    expect(verifyDownloadSignature({ ...valid, secret: ['new-secret', secret] })).toBe('ok');
    expect(verifyDownloadSignature({ ...valid, secret: ['new-secret', 'older'] })).toBe('bad_signature');
  });

  it('refuses to sign with an empty secret', () => {
    expect(() => downloadSignature('', 'fw', 'a.bin', expires)).toThrow(TypeError);
  });
});

describe('createHmacDownloadUrlSigner', () => {
  it('signs URLs that expire after the configured lifetime', () => {
    const signer = createHmacDownloadUrlSigner({
      baseUrl: 'http://127.0.0.1:8080',
      secret,
      lifetimeSeconds: 90,
    });
    const parts = parse(signer.urlFor({ id: 'fw-9', fileName: 'x.bin' }, now));
    expect(parts.expires).toBe(String(nowSeconds + 90));
    expect(verifyDownloadSignature({ ...parts, secret, now: new Date(now.getTime() + 89_000) })).toBe('ok');
    expect(verifyDownloadSignature({ ...parts, secret, now: new Date(now.getTime() + 90_000) })).toBe(
      'expired',
    );
  });

  it('defaults to a 30 minute lifetime', () => {
    const signer = createHmacDownloadUrlSigner({ baseUrl: 'http://h', secret });
    expect(parse(signer.urlFor({ id: 'fw-9', fileName: 'x.bin' }, now)).expires).toBe(
      String(nowSeconds + 1800),
    );
  });
});
