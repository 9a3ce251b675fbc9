import { Command } from 'commander';
import { serveCommand } from './commands/serve.js';

/** The `aloft` command line. */
export function buildProgram(): Command {
  const program = new Command('aloft')
    .description('Aloft: self-hosted OTA firmware updates for MQTT device fleets')
    .version('0.1.0');
  program.addCommand(serveCommand());
  return program;
}
