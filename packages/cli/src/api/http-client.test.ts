import { describe, expect, it } from 'vitest';
import { ApiError, ConnectionError } from './api-error.js';
import { describeNetworkError, HttpClient } from './http-client.js';

/** A fetch that records its calls and answers with `response`. */
function fakeFetch(response: () => Response) {
  const calls: { url: string; init: RequestInit }[] = [];
  const fetch = (async (url: URL | string, init?: RequestInit) => {
    calls.push({ url: String(url), init: init ?? {} });
    return response();
  }) as typeof globalThis.fetch;
  return { calls, fetch };
}

describe('HttpClient', () => {
  it('builds URLs under /api/v1 (keeping a path prefix), drops undefined query values, sends the token', async () => {
    const { calls, fetch } = fakeFetch(() => Response.json({ ok: true }));
    const client = new HttpClient({ baseUrl: 'https://ota.example.com/aloft/', token: 't0k', fetch });
    await client.json('GET', '/products/a%2Fb/devices', {
      query: { tag: 'beta', online: false, search: undefined },
    });
    expect(calls[0]!.url).toBe(
      'https://ota.example.com/aloft/api/v1/products/a%2Fb/devices?tag=beta&online=false',
    );
    expect((calls[0]!.init.headers as Record<string, string>).authorization).toBe('Bearer t0k');
  });

  it('turns the server’s JSON error into an ApiError with its code and message', async () => {
    const { fetch } = fakeFetch(() =>
      Response.json({ code: 'ALOFT_JOB_NOT_FOUND', message: 'Job 9 not found' }, { status: 404 }),
    );
    const error = await new HttpClient({ baseUrl: 'http://x', token: 't', fetch })
      .json('GET', '/jobs/9')
      .catch((e) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 404, code: 'ALOFT_JOB_NOT_FOUND', message: 'Job 9 not found' });
  });

  it('falls back to the status line for an error that is not JSON (a proxy’s page)', async () => {
    const { fetch } = fakeFetch(
      () => new Response('<html>bad gateway</html>', { status: 502, statusText: 'Bad Gateway' }),
    );
    const error = await new HttpClient({ baseUrl: 'http://x', token: 't', fetch })
      .json('GET', '/jobs')
      .catch((e) => e);
    expect(error).toMatchObject({ code: 'HTTP_502', message: 'the server answered 502 Bad Gateway' });
  });

  it('returns undefined for 204 No Content', async () => {
    const { fetch } = fakeFetch(() => new Response(null, { status: 204 }));
    expect(
      await new HttpClient({ baseUrl: 'http://x', token: 't', fetch }).json('DELETE', '/firmware/1'),
    ).toBe(undefined);
  });

  it('reports a failed fetch as a ConnectionError naming the server', async () => {
    const fetch = (async () => {
      throw new TypeError('fetch failed', {
        cause: Object.assign(new Error('connect'), { code: 'ENOTFOUND' }),
      });
    }) as typeof globalThis.fetch;
    const error = await new HttpClient({ baseUrl: 'http://nowhere:8080', token: 't', fetch })
      .json('GET', '/products')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as ConnectionError).message).toBe(
      'cannot reach the Aloft server at http://nowhere:8080: unknown host',
    );
  });
});

describe('describeNetworkError', () => {
  it('finds the code of a connection refused on every address of a host (an AggregateError)', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const error = new TypeError('fetch failed', { cause: new AggregateError([refused, refused]) });
    expect(describeNetworkError(error)).toMatch(/^connection refused/);
  });

  it('keeps the message of an error it has no words for', () => {
    const error = new TypeError('fetch failed', {
      cause: Object.assign(new Error('odd'), { code: 'EWHAT' }),
    });
    expect(describeNetworkError(error)).toBe('odd (EWHAT)');
  });
});
