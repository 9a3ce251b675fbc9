import { Command, Option } from 'commander';
import type { CursorPage, JobTab, UpgradeRow } from '../api/index.js';
import type { CliIo } from '../cli-io.js';
import { formatTime } from '../output/format.js';
import { formatTable } from '../output/table.js';
import { apiAction, pageFooter } from './api-command.js';
import { integer, parseId } from './option-parsers.js';

interface DevicesFlags {
  tab: JobTab | 'all';
  search?: string;
  limit: number;
  offset?: number;
  after?: number;
}

/** `aloft jobs devices`: one page of a job's devices, by offset or after an upgrade id. */
export function jobDevicesCommand(io: CliIo): Command {
  return new Command('devices')
    .argument('<jobId>')
    .description('The devices of a job and their upgrade state')
    .addOption(
      new Option('--tab <tab>', 'which devices')
        .choices(['pending', 'upgrading', 'succeeded', 'failed', 'cancelled', 'all'])
        .default('all'),
    )
    .option('--search <text>', 'device name contains this')
    .option('--limit <n>', 'page size (1-1000)', integer(1, 1000), 50)
    .option('--offset <n>', 'skip this many (default 0)', integer(0))
    .addOption(
      new Option('--after <id>', 'the page after this upgrade id (as fast at any depth)')
        .argParser(integer(0))
        .conflicts('offset'),
    )
    .action(
      apiAction<DevicesFlags>(io, async (s, id) => {
        const o = s.options;
        const page = await s.api.jobs.devices(parseId(id, 'job id'), {
          tab: o.tab,
          search: o.search,
          limit: o.limit,
          offset: o.offset,
          after: o.after,
        });
        s.print(page, () =>
          [
            formatTable(
              [
                { header: 'upgrade', value: (u) => u.id, align: 'right' },
                { header: 'device', value: (u) => u.deviceName },
                { header: 'state', value: (u) => u.state },
                {
                  header: 'progress',
                  value: (u) => (u.percent === null ? null : `${u.percent}%`),
                  align: 'right',
                },
                { header: 'from', value: (u) => u.sourceVersion },
                { header: 'current', value: (u) => u.currentVersion },
                { header: 'error', value: (u) => [u.errorCode, u.errorMessage].filter(Boolean).join(': ') },
                { header: 'last activity', value: (u) => formatTime(u.lastActivityAt) },
              ],
              page.items,
            ),
            devicesFooter(page, o),
          ].join('\n'),
        );
      }),
    );
}

/** By offset, the usual footer; after an id, where the page stands is unknown, so it names the next page's start. */
function devicesFooter(page: CursorPage<UpgradeRow>, o: DevicesFlags): string {
  if (o.after === undefined) return pageFooter(page.items.length, page.total, o.offset ?? 0, 'device');
  if (!page.items.length) return `no devices after upgrade ${o.after} (${page.total} in all)`;
  const next = page.nextAfter === null ? '' : ` (next: --after ${page.nextAfter})`;
  return `${page.items.length} of ${page.total} ${page.total === 1 ? 'device' : 'devices'} after upgrade ${o.after}${next}`;
}
