import { ApiError, ConnectionError } from './api-error.js';
import { streamRequest } from './stream-request.js';

export interface HttpClientOptions {
  /** The server's base URL, e.g. `http://127.0.0.1:8080`; a path prefix (`https://host/aloft`) is kept. */
  baseUrl: string;
  /** Bearer token for the management API. */
  token: string;
  /** Replaceable for tests; defaults to the global fetch (undici). */
  fetch?: typeof fetch;
}

export type QueryValue = string | number | boolean | undefined;

export interface RequestOptions {
  query?: Readonly<Record<string, QueryValue>>;
  /** Sent as `application/json`. */
  json?: unknown;
  /** The `Accept` header; JSON unless told otherwise. */
  accept?: string;
  /** Aborts the request, or the reading of its response body (an event stream). */
  signal?: AbortSignal;
  /** A raw body: text, or a stream for uploads (sent chunk by chunk with backpressure, never buffered). */
  body?: { contentType: string; data: string | AsyncIterable<Uint8Array>; length?: number };
}

/** The API's prefix on the server. */
const API_PREFIX = '/api/v1';

/**
 * The transport under every API call: builds URLs under `/api/v1`, adds the bearer token, and turns failures
 * into {@link ApiError} (the server said no) or {@link ConnectionError} (no server to ask).
 */
export class HttpClient {
  readonly baseUrl: string;
  readonly #token: string;
  readonly #fetch: typeof fetch;

  constructor(options: HttpClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.#token = options.token;
    this.#fetch = options.fetch ?? fetch;
  }

  /** The absolute URL of an API path (`/products`) with its query; undefined query values are left out. */
  url(path: string, query: Readonly<Record<string, QueryValue>> = {}): URL {
    const url = new URL(`${this.baseUrl}${API_PREFIX}${path}`);
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    return url;
  }

  /** Sends a request and returns the response when it is a success (2xx); throws otherwise. */
  async request(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.#token}`,
      accept: options.accept ?? 'application/json',
    };
    let body: string | AsyncIterable<Uint8Array> | undefined;
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    } else if (options.body) {
      headers['content-type'] = options.body.contentType;
      // A known length spares the server chunked decoding and lets it reject an oversized upload up front.
      if (options.body.length !== undefined) headers['content-length'] = String(options.body.length);
      body = options.body.data;
    }
    const url = this.url(path, options.query);
    let response: Response;
    try {
      response =
        body === undefined || typeof body === 'string'
          ? await this.#fetch(url, {
              method,
              headers,
              ...(body !== undefined ? { body } : {}),
              ...(options.signal ? { signal: options.signal } : {}),
            })
          : await streamRequest(url, method, headers, body);
    } catch (error) {
      throw new ConnectionError(this.baseUrl, describeNetworkError(error));
    }
    if (!response.ok) throw await apiErrorFrom(response);
    return response;
  }

  /** Sends a request and parses the JSON answer (undefined for 204 No Content). */
  async json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.request(method, path, options);
    const text = await response.text();
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }
}

async function apiErrorFrom(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { code?: unknown; message?: unknown; details?: unknown };
    if (typeof body.code === 'string' && typeof body.message === 'string') {
      return new ApiError(response.status, body.code, body.message, body.details);
    }
  } catch {
    // Not JSON: a proxy's error page, say. Fall back to the status line.
  }
  const message = `${response.status} ${response.statusText}`.trim();
  return new ApiError(response.status, `HTTP_${response.status}`, `the server answered ${message}`);
}

const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused (is `aloft serve` running? set --server or ALOFT_URL)',
  ENOTFOUND: 'unknown host',
  EAI_AGAIN: 'host name lookup failed',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection closed while sending',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_SOCKET: 'connection closed by the server',
};

/** fetch() rejects with "fetch failed"; the useful part is the system error code in its cause. */
export function describeNetworkError(error: unknown): string {
  const cause = (error as { cause?: unknown }).cause ?? error;
  const code = errorCode(cause) ?? errorCode((cause as { errors?: unknown[] }).errors?.[0]);
  if (code && NETWORK_REASONS[code]) return NETWORK_REASONS[code];
  const message = cause instanceof Error ? cause.message : String(cause);
  return code ? `${message} (${code})` : message;
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}
