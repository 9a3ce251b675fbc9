import { describe, expect, it } from 'vitest';
import { DownloadError } from './download-error.js';
import type { HttpGetResponse } from './http-get.js';
import { planResponse, requestHeaders } from './http-response.js';

function response(status: number, headers: Record<string, string>): HttpGetResponse {
  return {
    status,
    header: (name) => headers[name],
    body: (async function* () {
      yield new Uint8Array(1);
    })(),
    close: () => {},
  };
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof DownloadError) return error.code;
    throw error;
  }
  return undefined;
}

describe('requestHeaders', () => {
  it('asks for the rest of the file with an open-ended Range, or for raw bytes from the start', () => {
    expect(requestHeaders(0)).toEqual({ 'accept-encoding': 'identity' });
    expect(requestHeaders(1234)).toEqual({ range: 'bytes=1234-' });
  });
});

describe('planResponse', () => {
  it('streams a 206 that continues exactly where we stopped', () => {
    const plan = planResponse(
      response(206, { 'content-length': '60', 'content-range': 'bytes 40-99/100' }),
      40,
      100,
    );
    expect(plan).toMatchObject({ kind: 'stream', startsAt: 40 });
  });

  it('treats a 200 to a Range request as the whole file from byte 0', () => {
    expect(planResponse(response(200, { 'content-length': '100' }), 40, 100)).toMatchObject({
      kind: 'stream',
      startsAt: 0,
    });
  });

  it('restarts on 416 to a resume, but fails on 416 from the start', () => {
    expect(planResponse(response(416, {}), 40, 100)).toEqual({ kind: 'restart' });
    expect(codeOf(() => planResponse(response(416, {}), 0, 100))).toBe('download_failed');
  });

  it('refuses a 206 for another range than asked', () => {
    const wrongStart = response(206, { 'content-length': '70', 'content-range': 'bytes 30-99/100' });
    const shortEnd = response(206, { 'content-length': '10', 'content-range': 'bytes 40-49/100' });
    expect(codeOf(() => planResponse(wrongStart, 40, 100))).toBe('download_failed');
    expect(codeOf(() => planResponse(shortEnd, 40, 100))).toBe('download_failed');
  });

  it('calls a server file of another size verify_failed', () => {
    const range = response(206, { 'content-length': '60', 'content-range': 'bytes 40-99/200' });
    expect(codeOf(() => planResponse(range, 40, 100))).toBe('verify_failed');
    expect(codeOf(() => planResponse(response(200, { 'content-length': '99' }), 0, 100))).toBe(
      'verify_failed',
    );
  });

  it('refuses a compressed body', () => {
    const gzip = response(200, { 'content-length': '100', 'content-encoding': 'gzip' });
    expect(codeOf(() => planResponse(gzip, 0, 100))).toBe('download_failed');
  });

  it('maps statuses the way Tencent devices report them', () => {
    expect(codeOf(() => planResponse(response(403, {}), 0, 100))).toBe('url_expired');
    expect(codeOf(() => planResponse(response(404, {}), 0, 100))).toBe('not_found');
    expect(codeOf(() => planResponse(response(410, {}), 0, 100))).toBe('not_found');
    expect(codeOf(() => planResponse(response(500, {}), 0, 100))).toBe('download_failed');
  });
});
