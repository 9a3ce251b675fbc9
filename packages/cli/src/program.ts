import { Command, CommanderError } from 'commander';
import { ApiError, ConnectionError } from './api/index.js';
import { CliError, type CliIo, processIo } from './cli-io.js';
import { devicesCommand } from './commands/devices.js';
import { eventsCommand } from './commands/events.js';
import { firmwareCommand } from './commands/firmware.js';
import { jobsCommand } from './commands/jobs.js';
import { productsCommand } from './commands/products.js';
import { serveCommand } from './commands/serve.js';
import { tokensCommand } from './commands/tokens.js';
import { upgradesCommand } from './commands/upgrades.js';
import { webhooksCommand } from './commands/webhooks.js';
import { simulateCommand } from './simulate/simulate-command.js';

/** The `aloft` command line. `io` is where its commands write and which environment they read. */
export function buildProgram(io: CliIo = processIo()): Command {
  const program = new Command('aloft')
    .description('Aloft: self-hosted OTA firmware updates for MQTT device fleets')
    .version('0.1.0')
    // Options belong to the command they follow, so `firmware upload --version 1.2` is the firmware's version,
    // not a request for aloft's own.
    .enablePositionalOptions()
    .addHelpText(
      'after',
      '\nAPI commands read ALOFT_URL (default http://127.0.0.1:8080) and ALOFT_TOKEN, or take --server and --token.' +
        '\nEvery API command takes --json for output scripts can parse.',
    );
  program.addCommand(serveCommand());
  for (const command of [
    productsCommand,
    devicesCommand,
    tokensCommand,
    firmwareCommand,
    jobsCommand,
    upgradesCommand,
    eventsCommand,
    webhooksCommand,
  ]) {
    program.addCommand(command(io));
  }
  program.addCommand(simulateCommand(io));
  routeOutput(program, io);
  return program;
}

/** Commander writes help and usage errors to `io` and throws instead of exiting, on every (sub)command. */
function routeOutput(command: Command, io: CliIo): void {
  command
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .showHelpAfterError('(add --help for usage)');
  for (const sub of command.commands) routeOutput(sub, io);
}

/**
 * Runs `aloft` with `argv` (without the node and script paths) and resolves to the exit code; never calls
 * process.exit, so tests can run commands in-process and read what they wrote. Errors are reported as
 * `error: <message> (<code>)` on stderr with exit code 1.
 */
export async function run(argv: readonly string[], io: Partial<CliIo> = {}): Promise<number> {
  const full: CliIo = { ...processIo(), ...io };
  try {
    await buildProgram(full).parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (error) {
    return report(error, full);
  }
}

function report(error: unknown, io: CliIo): number {
  // Commander has already written its own message (or the help text).
  if (error instanceof CommanderError) return error.exitCode;
  if (error instanceof ApiError) {
    io.stderr.write(`error: ${error.message} (${error.code})\n`);
    return 1;
  }
  if (error instanceof ConnectionError || error instanceof CliError) {
    io.stderr.write(`error: ${error.message}\n`);
    return error instanceof CliError ? error.exitCode : 1;
  }
  // Not an error we expected: say what it was; ALOFT_DEBUG=1 adds the stack for a bug report.
  const text =
    error instanceof Error
      ? io.env.ALOFT_DEBUG
        ? (error.stack ?? error.message)
        : error.message
      : String(error);
  io.stderr.write(`error: ${text}\n`);
  return 1;
}
