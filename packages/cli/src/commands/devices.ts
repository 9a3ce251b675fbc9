import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { Command } from 'commander';
import type { DeviceInput, Upgrade, UpgradeWithTransitions } from '../api/index.js';
import { CliError, type CliIo } from '../cli-io.js';
import { formatTime } from '../output/format.js';
import { formatDetails, formatTable } from '../output/table.js';
import { addConnectionOptions, apiAction, pageFooter } from './api-command.js';
import { integer, list, splitList } from './option-parsers.js';

interface ListOptions {
  version?: string;
  module?: string;
  tag?: string;
  online?: boolean;
  search?: string;
  limit?: number;
  offset?: number;
}

/** `aloft devices …`: register, import, search and inspect devices. */
export function devicesCommand(io: CliIo): Command {
  const devices = new Command('devices').description('Devices of a product');

  devices
    .command('add <product> <name>')
    .description('Register a device (its secret is generated unless given, and shown once)')
    .option('--secret <secret>', 'device secret (8-128 characters)')
    .option('--tags <tags>', 'comma-separated tags', list)
    .action(
      apiAction<{ secret?: string; tags?: string[] }>(io, async (s, product, name) => {
        const device = await s.api.devices.add(product, {
          name,
          ...(s.options.secret ? { secret: s.options.secret } : {}),
          ...(s.options.tags ? { tags: s.options.tags } : {}),
        });
        s.print(device, () =>
          formatDetails([
            ['device', device.name],
            ['product', device.productKey],
            ['secret', device.secret],
            ['tags', device.tags.join(', ')],
          ]),
        );
        if (!s.json) s.note('the secret is shown only this once');
      }),
    );

  devices
    .command('import <product> <file>')
    .description(
      'Register many devices at once from a .csv (header name,secret,tags; tags split by ;) or .json file',
    )
    .action(
      apiAction(io, async (s, product, file) => {
        const result = await s.api.devices.import(product, await readImportFile(file));
        s.print(result, () =>
          [
            formatTable(
              [
                { header: 'name', value: (d) => d.name },
                { header: 'secret', value: (d) => d.secret },
                { header: 'tags', value: (d) => d.tags.join(',') },
              ],
              result.devices,
            ),
            `imported ${result.created} devices`,
          ].join('\n'),
        );
        if (!s.json) s.note('the secrets are shown only this once; use --json to save them');
      }),
    );

  devices
    .command('list <product>')
    .description('Search the devices of a product')
    .option('--version <version>', 'only devices on this version (of --module)')
    .option('--module <module>', 'the module --version refers to (default: default)')
    .option('--tag <tag>', 'only devices with this tag')
    .option('--online', 'only connected devices')
    .option('--offline', 'only disconnected devices')
    .option('--search <text>', 'device name contains this')
    .option('--limit <n>', 'page size (1-1000)', integer(1, 1000), 50)
    .option('--offset <n>', 'skip this many', integer(0), 0)
    .action(
      apiAction<ListOptions & { offline?: boolean }>(io, async (s, product) => {
        const o = s.options;
        if (o.online && o.offline) throw new CliError('--online and --offline exclude each other');
        const page = await s.api.devices.list(product, {
          version: o.version,
          module: o.module,
          tag: o.tag,
          online: o.online ? true : o.offline ? false : undefined,
          search: o.search,
          limit: o.limit,
          offset: o.offset,
        });
        s.print(page, () =>
          [
            formatTable(
              [
                { header: 'name', value: (d) => d.name },
                { header: 'online', value: (d) => d.online },
                {
                  header: 'versions',
                  value: (d) =>
                    Object.entries(d.versions)
                      .map(([module, version]) => (module === 'default' ? version : `${module}=${version}`))
                      .join(' '),
                },
                { header: 'tags', value: (d) => d.tags.join(',') },
                { header: 'last seen', value: (d) => formatTime(d.lastSeenAt) },
              ],
              page.items,
            ),
            pageFooter(page.items.length, page.total, s.options.offset ?? 0, 'device'),
          ].join('\n'),
        );
      }),
    );

  devices
    .command('show <product> <name>')
    .description('A device: online state, versions per module, tags')
    .action(
      apiAction(io, async (s, product, name) => {
        const d = await s.api.devices.get(product, name);
        s.print(d, () =>
          [
            formatDetails([
              ['device', d.name],
              ['product', d.productKey],
              ['online', d.online],
              ['last seen', formatTime(d.lastSeenAt)],
              ['tags', d.tags.join(', ')],
              ['registered', formatTime(d.createdAt)],
            ]),
            '',
            d.versions.length === 0
              ? 'no version reported yet'
              : formatTable(
                  [
                    { header: 'module', value: (v) => v.module },
                    { header: 'version', value: (v) => v.version },
                    { header: 'reported', value: (v) => formatTime(v.reportedAt) },
                  ],
                  d.versions,
                ),
          ].join('\n'),
        );
      }),
    );

  devices
    .command('tags <product> <name> [tags...]')
    .description('Replace a device’s tags (space- or comma-separated; --clear removes them all)')
    .option('--clear', 'remove every tag')
    .action(
      apiAction<{ clear?: boolean }>(io, async (s, product, name, ...given) => {
        const tags = given.flatMap(splitList);
        if (tags.length === 0 && !s.options.clear)
          throw new CliError('give the new tags, or --clear to remove them');
        if (tags.length > 0 && s.options.clear) throw new CliError('--clear takes no tags');
        const d = await s.api.devices.setTags(product, name, tags);
        s.print(d, () => `${d.name}: ${d.tags.length ? d.tags.join(', ') : 'no tags'}`);
      }),
    );

  devices
    .command('delete <product> <name>')
    .description('Delete a device')
    .action(
      apiAction(io, async (s, product, name) => {
        await s.api.devices.delete(product, name);
        s.print({ deleted: name, productKey: product }, () => `deleted device ${name}`);
      }),
    );

  devices
    .command('status <product> <name>')
    .description('The latest upgrade of one module of a device: state, progress, error')
    .option('--module <module>', 'module (default: default)')
    .action(
      apiAction<{ module?: string }>(io, async (s, product, name) => {
        const status = await s.api.devices.status(product, name, s.options.module);
        s.print(status, () =>
          formatDetails([
            ['device', status.device],
            ['module', status.module],
            ['current version', status.currentVersion ?? 'not reported'],
            ...(status.upgrade ? upgradeDetails(status.upgrade) : ([['upgrade', 'none']] as const)),
          ]),
        );
      }),
    );

  devices
    .command('history <product> <name>')
    .description('Every upgrade attempt of a device, newest first, with each state change')
    .option('--limit <n>', 'how many attempts (1-200)', integer(1, 200), 20)
    .action(
      apiAction<{ limit: number }>(io, async (s, product, name) => {
        const history = await s.api.devices.history(product, name, s.options.limit);
        s.print(history, () =>
          history.length === 0 ? 'no upgrades yet' : history.map(formatAttempt).join('\n\n'),
        );
      }),
    );

  return addConnectionOptions(devices);
}

function upgradeDetails(u: Upgrade): [string, string | number | null][] {
  return [
    ['upgrade', u.id],
    ['job', u.jobId],
    ['target version', u.targetVersion],
    ['state', u.state],
    ['phase', u.phase],
    ['progress', u.percent === null ? null : `${u.percent}%`],
    ['error', u.errorCode ? `${u.errorCode}${u.errorMessage ? `: ${u.errorMessage}` : ''}` : null],
    ['attempt', u.attempt],
    ['queued', formatTime(u.queuedAt)],
    ['notified', formatTime(u.notifiedAt)],
    ['last activity', formatTime(u.lastActivityAt)],
    ['finished', formatTime(u.finishedAt)],
  ];
}

function formatAttempt(u: UpgradeWithTransitions): string {
  const error = u.errorCode ? `  ${u.errorCode}${u.errorMessage ? `: ${u.errorMessage}` : ''}` : '';
  const head = `upgrade ${u.id} (job ${u.jobId}, attempt ${u.attempt})  ${u.module} ${u.sourceVersion ?? '?'} -> ${u.targetVersion}  ${u.state}${error}`;
  const steps = u.transitions.map((t) => {
    const progress = t.percent === null ? '' : ` ${t.percent}%`;
    const detail = [t.errorCode, t.message].filter(Boolean).join(': ');
    return `  ${formatTime(t.at)}  ${t.toState}${t.phase && t.phase !== t.toState ? ` (${t.phase})` : ''}${progress}${detail ? `  ${detail}` : ''}`;
  });
  return [head, ...steps].join('\n');
}

/** Reads a device import file: CSV goes to the server as is; JSON is a list of devices or `{"devices": [...]}`. */
async function readImportFile(file: string): Promise<{ csv: string } | { devices: DeviceInput[] }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as Error).message}`);
  }
  const extension = extname(file).toLowerCase();
  const looksJson = /^\s*[[{]/.test(text);
  if (extension === '.csv' || (extension !== '.json' && !looksJson)) return { csv: text };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CliError(`${file} is not valid JSON: ${(error as Error).message}`);
  }
  const devices = Array.isArray(parsed) ? parsed : (parsed as { devices?: unknown } | null)?.devices;
  if (!Array.isArray(devices)) {
    throw new CliError(`${file}: expected a JSON list of devices or {"devices": [...]}`);
  }
  return { devices: devices as DeviceInput[] };
}
