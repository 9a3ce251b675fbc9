import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { Command, Option } from 'commander';
import type { Job } from '../api/index.js';
import { CliError, type CliIo } from '../cli-io.js';
import { formatTime } from '../output/format.js';
import { formatTable } from '../output/table.js';
import { addConnectionOptions, apiAction, pageFooter, type Session } from './api-command.js';
import { jobDevicesCommand } from './job-devices.js';
import { addJobOptions, hasStrategy, type JobFlags, jobOptionsFrom } from './job-options.js';
import { formatJob, formatJobSummary } from './job-view.js';
import { watchJob } from './job-watch.js';
import { decimal, integer, list, parseId } from './option-parsers.js';

interface BatchFlags extends JobFlags {
  firmware: number;
  devices?: string[];
  deviceFile?: string;
  sourceVersions?: string[];
  tags?: string[];
  percent?: number;
  dynamic?: boolean;
  allowUnverified?: boolean;
}

/** `aloft jobs …`: create, follow and steer upgrade jobs. */
export function jobsCommand(io: CliIo): Command {
  const jobs = new Command('jobs').description('Upgrade jobs: single, verify, batch, retry');
  const firmwareOption = () =>
    new Option('--firmware <id>', 'firmware id').argParser(integer(1)).makeOptionMandatory();

  addJobOptions(
    jobs
      .command('single')
      .description('Upgrade one device')
      .addOption(firmwareOption())
      .requiredOption('--device <name>', 'device name'),
  ).action(
    apiAction<JobFlags & { firmware: number; device: string }>(io, async (s) => {
      const job = await s.api.jobs.single({
        firmwareId: s.options.firmware,
        deviceName: s.options.device,
        ...jobOptionsFrom(s.options),
      });
      printCreated(s, job);
    }),
  );

  addJobOptions(
    jobs
      .command('verify')
      .description('Verify a package on test devices (all succeed → the package becomes verified)')
      .addOption(firmwareOption())
      .requiredOption('--devices <names>', 'comma-separated test device names', list),
  ).action(
    apiAction<JobFlags & { firmware: number; devices: string[] }>(io, async (s) => {
      const job = await s.api.jobs.verify({
        firmwareId: s.options.firmware,
        deviceNames: s.options.devices,
        ...jobOptionsFrom(s.options),
      });
      printCreated(s, job);
    }),
  );

  addJobOptions(
    jobs
      .command('batch')
      .description('Roll out to many devices (no targets = every device of the product)')
      .addOption(firmwareOption())
      .option('--devices <names>', 'only these devices (comma-separated)', list)
      .option(
        '--device-file <file>',
        'only the devices listed in this file (one per line, or CSV with a name column)',
      )
      .option('--source-versions <versions>', 'only devices on these versions (default: the package’s)', list)
      .option('--tags <tags>', 'only devices with any of these tags', list)
      .option('--percent <pct>', 'a random share of the devices (gray release)', decimal(0, 100))
      .option('--dynamic', 'also enrol devices that later report a source version')
      .option('--allow-unverified', 'roll out a package that has not passed verification'),
  ).action(apiAction<BatchFlags>(io, async (s) => printCreated(s, await createBatch(s))));

  addJobOptions(
    jobs.command('retry <jobId>').description('Upgrade the failed and timed-out devices of a job again'),
  ).action(
    apiAction<JobFlags>(io, async (s, id) => {
      printCreated(s, await s.api.jobs.retry(parseId(id, 'job id'), jobOptionsFrom(s.options)));
    }),
  );

  jobs
    .command('list')
    .description('List jobs, newest first')
    .option('--product <key>', 'only this product')
    .option('--state <state>', 'scheduled | running | paused | completed | cancelled | aborted')
    .addOption(new Option('--kind <kind>', 'only this kind').choices(['single', 'verify', 'batch', 'retry']))
    .option('--limit <n>', 'page size (1-1000)', integer(1, 1000), 50)
    .option('--offset <n>', 'skip this many', integer(0), 0)
    .action(
      apiAction<{ product?: string; state?: string; kind?: string; limit: number; offset: number }>(
        io,
        async (s) => {
          const o = s.options;
          const page = await s.api.jobs.list({
            productKey: o.product,
            state: o.state,
            kind: o.kind,
            limit: o.limit,
            offset: o.offset,
          });
          s.print(page, () =>
            [
              formatTable(
                [
                  { header: 'id', value: (j) => j.id, align: 'right' },
                  { header: 'kind', value: (j) => j.kind },
                  { header: 'name', value: (j) => j.name },
                  { header: 'product', value: (j) => j.productKey },
                  { header: 'firmware', value: (j) => j.firmwareId, align: 'right' },
                  { header: 'target', value: (j) => j.targetVersion },
                  { header: 'state', value: (j) => j.state },
                  { header: 'devices', value: (j) => j.selected, align: 'right' },
                  { header: 'created', value: (j) => formatTime(j.createdAt) },
                ],
                page.items,
              ),
              pageFooter(page.items.length, page.total, o.offset, 'job'),
            ].join('\n'),
          );
        },
      ),
    );

  jobs
    .command('show <jobId>')
    .description('A job: its settings, devices per state, success rate, throughput, ETA')
    .action(
      apiAction(io, async (s, id) => {
        const detail = await s.api.jobs.get(parseId(id, 'job id'));
        const counts = Object.entries(detail.counts).filter(([, n]) => n > 0);
        s.print(detail, () =>
          [
            formatJob(detail),
            '',
            formatJobSummary(detail, Date.now()),
            ...(counts.length
              ? ['', `by state: ${counts.map(([state, n]) => `${state} ${n}`).join(', ')}`]
              : []),
          ].join('\n'),
        );
      }),
    );

  jobs.addCommand(jobDevicesCommand(io));

  for (const [action, description] of [
    ['pause', 'Pause a job: no new devices are told (those upgrading carry on)'],
    ['resume', 'Resume a paused job'],
    ['cancel', 'Cancel a job and the upgrades it has not finished'],
  ] as const) {
    jobs
      .command(`${action} <jobId>`)
      .description(description)
      .action(
        apiAction(io, async (s, id) => {
          const job = await s.api.jobs[action](parseId(id, 'job id'));
          s.print(job, () => `job ${job.id}: ${job.state}`);
        }),
      );
  }

  jobs
    .command('watch <jobId>')
    .description('Follow a job live until it ends (exit 1 unless it completed with no failures)')
    .option('--interval <seconds>', 'seconds between polls', decimal(0.1, 3600), 1)
    .action(
      apiAction<{ interval: number }>(io, async (s, id) => {
        await watchJob(s, parseId(id, 'job id'), s.options.interval * 1000);
      }),
    );

  return addConnectionOptions(jobs);
}

async function createBatch(s: Session<BatchFlags>): Promise<Job> {
  const o = s.options;
  if (o.deviceFile !== undefined) {
    // The device-list endpoint takes a long list as text; it has no targets or strategy to combine with.
    if (o.devices || o.sourceVersions || o.tags || o.percent !== undefined || o.dynamic || hasStrategy(o)) {
      throw new CliError('--device-file takes no other targets or strategy options; use --devices for those');
    }
    let text: string;
    try {
      text = await readFile(o.deviceFile, 'utf8');
    } catch (error) {
      throw new CliError(`cannot read ${o.deviceFile}: ${(error as Error).message}`);
    }
    return s.api.jobs.batchFromList(
      {
        firmwareId: o.firmware,
        ...(o.allowUnverified ? { allowUnverified: true } : {}),
        ...(o.supersede ? { supersede: true } : {}),
        ...(o.name !== undefined ? { name: o.name } : {}),
      },
      text,
      extname(o.deviceFile).toLowerCase() === '.csv' ? 'text/csv' : 'text/plain',
    );
  }
  const targets = {
    ...(o.devices ? { deviceNames: o.devices } : {}),
    ...(o.sourceVersions ? { sourceVersions: o.sourceVersions } : {}),
    ...(o.tags ? { tags: o.tags } : {}),
    ...(o.percent !== undefined ? { percent: o.percent } : {}),
  };
  return s.api.jobs.batch({
    firmwareId: o.firmware,
    ...(Object.keys(targets).length ? { targets } : {}),
    ...(o.dynamic ? { dynamic: true } : {}),
    ...(o.allowUnverified ? { allowUnverified: true } : {}),
    ...jobOptionsFrom(o),
  });
}

function printCreated(s: Session<unknown>, job: Job): void {
  s.print(job, () => formatJob(job));
  if (!s.json) s.note(`follow it with: aloft jobs watch ${job.id}`);
}
