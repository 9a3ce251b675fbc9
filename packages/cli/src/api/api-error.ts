/** The server answered with an error: its JSON `{code, message}` (or the HTTP status when it sent none). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The server could not be reached at all (refused, unknown host, reset…). */
export class ConnectionError extends Error {
  constructor(
    readonly url: string,
    readonly reason: string,
  ) {
    super(`cannot reach the Aloft server at ${url}: ${reason}`);
    this.name = 'ConnectionError';
  }
}
