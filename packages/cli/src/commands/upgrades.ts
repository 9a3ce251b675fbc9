import { Command } from 'commander';
import type { CliIo } from '../cli-io.js';
import { addConnectionOptions, apiAction } from './api-command.js';
import { parseId } from './option-parsers.js';

/** `aloft upgrades cancel`: one device's upgrade (the ids are in `jobs devices` and `devices history`). */
export function upgradesCommand(io: CliIo): Command {
  const upgrades = new Command('upgrades').description('Single device upgrades');

  upgrades
    .command('cancel <upgradeId>')
    .description('Cancel one device’s upgrade')
    .action(
      apiAction(io, async (s, id) => {
        const upgradeId = parseId(id, 'upgrade id');
        await s.api.upgrades.cancel(upgradeId);
        s.print({ cancelled: upgradeId }, () => `cancelled upgrade ${upgradeId}`);
      }),
    );

  return addConnectionOptions(upgrades);
}
