/** How the downloader asks for (part of) a firmware file. */
export interface HttpGetOptions {
  /** Request headers, lower-case names (`range`, `accept-encoding`). */
  headers: Readonly<Record<string, string>>;
  /**
   * Aborting closes the connection; the pending `HttpGet` promise, or the body's iteration, then rejects with
   * `signal.reason`.
   */
  signal: AbortSignal;
}

/** The answer to a firmware GET, once its headers arrived (redirects already followed). */
export interface HttpGetResponse {
  readonly status: number;
  /** A response header by lower-case name; `undefined` when absent. */
  header(name: string): string | undefined;
  /**
   * The body, read once, chunk by chunk. It rejects when the connection breaks before the last byte: a short
   * body is never a successful end. The downloader is done with a chunk (hashed, copied for writing) when it
   * asks for the next one.
   */
  readonly body: AsyncIterable<Uint8Array>;
  /** Stops reading and closes the connection, whether or not the body was read. Safe to call more than once. */
  close(): void;
}

/**
 * The downloader's HTTP client: one GET, following redirects (signed URL → CDN). The default is
 * {@link nodeHttpGet}; {@link fetchHttpGet} adapts any `fetch`. The simulator wraps one to inject faults.
 */
export type HttpGet = (url: string, options: HttpGetOptions) => Promise<HttpGetResponse>;
