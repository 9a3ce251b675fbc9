/** Where a command writes: process.stdout/stderr in the `aloft` binary, string buffers in tests. */
export interface OutputSink {
  write(chunk: string | Uint8Array): unknown;
  /** True on a terminal: progress lines redraw in place only there. */
  isTTY?: boolean;
  /** Present on real streams; used to respect backpressure when writing a download to stdout. */
  once?(event: 'drain', listener: () => void): unknown;
}

/** Everything a command run touches outside itself, so tests can run commands in-process. */
export interface CliIo {
  stdout: OutputSink;
  stderr: OutputSink;
  /** Read for ALOFT_URL and ALOFT_TOKEN. */
  env: Readonly<Record<string, string | undefined>>;
  /** Waits between polls (`jobs watch`); replaced in tests to avoid real delays. */
  sleep(ms: number): Promise<void>;
}

/** The real process's streams and environment. */
export function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
}

/** An error a command reports as `error: <message>` with an exit code, without a stack trace. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
