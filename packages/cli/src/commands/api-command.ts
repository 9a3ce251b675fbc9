import type { Command } from 'commander';
import { type AloftApi, connectApi } from '../api/index.js';
import { CliError, type CliIo } from '../cli-io.js';

/** Where `aloft` looks for a server when neither --server nor ALOFT_URL says. */
export const DEFAULT_SERVER_URL = 'http://127.0.0.1:8080';

/** Options every API command takes. */
export interface ConnectionOptions {
  server?: string;
  token?: string;
  json?: boolean;
}

/** What an API command's handler works with. */
export interface Session<Options> {
  api: AloftApi;
  options: Options & ConnectionOptions;
  io: CliIo;
  /** True with --json: print machine-readable output only. */
  json: boolean;
  /** Prints `value` as JSON with --json; otherwise the human text `render` returns. */
  print(value: unknown, render: () => string): void;
  /** A line for a human on stderr (hints, progress); stdout stays clean for the result. */
  note(text: string): void;
}

/**
 * Wraps an API command's handler: reads its options, connects to the server named by --server/--token or
 * ALOFT_URL/ALOFT_TOKEN, and passes the positional arguments (variadic ones spread out) as strings.
 */
export function apiAction<Options = Record<string, never>>(
  io: CliIo,
  handler: (session: Session<Options>, ...args: string[]) => Promise<void>,
): (...received: unknown[]) => Promise<void> {
  return async (...received) => {
    const command = received.at(-1) as Command;
    const options = command.opts<Options & ConnectionOptions>();
    const args = command.processedArgs.flat().filter((arg): arg is string => typeof arg === 'string');
    await handler(openSession(io, options), ...args);
  };
}

function openSession<Options>(io: CliIo, options: Options & ConnectionOptions): Session<Options> {
  const baseUrl = options.server || io.env.ALOFT_URL || DEFAULT_SERVER_URL;
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new CliError(`invalid server URL "${baseUrl}" (expected http://host:port)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliError(`invalid server URL "${baseUrl}" (expected http:// or https://)`);
  }
  const token = options.token || io.env.ALOFT_TOKEN;
  if (!token) {
    throw new CliError(
      'no API token: pass --token or set ALOFT_TOKEN (`aloft serve` prints the admin token on its first start)',
    );
  }
  const json = options.json === true;
  return {
    api: connectApi({ baseUrl, token }),
    options,
    io,
    json,
    print(value, render) {
      io.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${render()}\n`);
    },
    note(text) {
      io.stderr.write(`${text}\n`);
    },
  };
}

/** Adds --server, --token and --json to every command under `command` that runs an action. */
export function addConnectionOptions(command: Command): Command {
  for (const sub of command.commands) addConnectionOptions(sub);
  if (command.commands.length === 0) {
    command
      .option('--server <url>', `Aloft server URL (env ALOFT_URL, default ${DEFAULT_SERVER_URL})`)
      .option('--token <token>', 'API token (env ALOFT_TOKEN)')
      .option('--json', 'print JSON instead of tables (for scripts)');
  }
  return command;
}

/** A footer for a page of results: `3 devices` or `showing 51-100 of 1234 devices (next: --offset 100)`. */
export function pageFooter(shown: number, total: number, offset: number, noun: string): string {
  const nouns = total === 1 ? noun : `${noun}s`;
  if (offset === 0 && shown === total) return `${total} ${nouns}`;
  if (shown === 0) return `no ${noun}s at offset ${offset} (${total} in all)`;
  const last = offset + shown;
  const more = last < total ? ` (next: --offset ${last})` : '';
  return `showing ${offset + 1}-${last} of ${total} ${nouns}${more}`;
}
