import { Command } from 'commander';
import type { CliIo } from '../cli-io.js';
import { addConnectionOptions, apiAction } from './api-command.js';

/** `aloft tokens create`: API tokens for people and scripts. */
export function tokensCommand(io: CliIo): Command {
  const tokens = new Command('tokens').description('API tokens');

  tokens
    .command('create <name>')
    .description('Create an API token (shown once: the server keeps only its hash)')
    .action(
      apiAction(io, async (s, name) => {
        const created = await s.api.tokens.create(name);
        s.print(created, () => created.token);
        if (!s.json) s.note(`token "${created.name}" (id ${created.id}) created; it is shown only this once`);
      }),
    );

  return addConnectionOptions(tokens);
}
