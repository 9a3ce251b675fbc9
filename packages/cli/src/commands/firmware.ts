import { Command } from 'commander';
import type { Firmware } from '../api/index.js';
import type { CliIo } from '../cli-io.js';
import { formatBytes, formatTime } from '../output/format.js';
import { formatDetails, formatTable } from '../output/table.js';
import { addConnectionOptions, apiAction, pageFooter } from './api-command.js';
import { downloadFirmware } from './firmware-download.js';
import { uploadFirmware } from './firmware-upload.js';
import { integer, list, parseId } from './option-parsers.js';

interface UploadOptions {
  product: string;
  version: string;
  module?: string;
  description?: string;
  sourceVersions?: string[];
  md5?: string;
  sha256?: string;
}

/** `aloft firmware …`: upload, register, list, download and delete firmware packages. */
export function firmwareCommand(io: CliIo): Command {
  const firmware = new Command('firmware').description('Firmware packages');

  firmware
    .command('upload <file>')
    .description('Upload a firmware package (streamed; progress on stderr)')
    .requiredOption('--product <key>', 'product key')
    .requiredOption('--version <version>', 'the version devices report once upgraded')
    .option('--module <module>', 'module (default: default)')
    .option('--description <text>', 'release notes')
    .option('--source-versions <versions>', 'comma-separated versions it upgrades from', list)
    .option('--md5 <hex>', 'expected md5: the server rejects a mismatch and keeps nothing')
    .option('--sha256 <hex>', 'expected sha256: the server rejects a mismatch and keeps nothing')
    .action(
      apiAction<UploadOptions>(io, async (s, file) => {
        const o = s.options;
        const uploaded = await uploadFirmware(s, file, o.product, {
          version: o.version,
          module: o.module,
          description: o.description,
          sourceVersions: o.sourceVersions,
          md5: o.md5,
          sha256: o.sha256,
        });
        s.print(uploaded, () => formatFirmware(uploaded));
      }),
    );

  firmware
    .command('register-external')
    .description('Register a package hosted on your own file server (tasks carry its URL unchanged)')
    .requiredOption('--product <key>', 'product key')
    .requiredOption('--version <version>', 'the version devices report once upgraded')
    .requiredOption('--url <url>', 'http(s) URL of the file')
    .requiredOption('--size <bytes>', 'file size in bytes', integer(1))
    .option('--md5 <hex>', 'md5 of the file (md5 and/or sha256 required)')
    .option('--sha256 <hex>', 'sha256 of the file')
    .option('--module <module>', 'module (default: default)')
    .option('--description <text>', 'release notes')
    .option('--source-versions <versions>', 'comma-separated versions it upgrades from', list)
    .option('--check', 'have the server download it once to verify size and digests')
    .action(
      apiAction<UploadOptions & { url: string; size: number; check?: boolean }>(io, async (s) => {
        const o = s.options;
        const registered = await s.api.firmware.registerExternal(o.product, {
          version: o.version,
          url: o.url,
          size: o.size,
          ...(o.md5 ? { md5: o.md5 } : {}),
          ...(o.sha256 ? { sha256: o.sha256 } : {}),
          ...(o.module ? { module: o.module } : {}),
          ...(o.description ? { description: o.description } : {}),
          ...(o.sourceVersions ? { sourceVersions: o.sourceVersions } : {}),
          ...(o.check ? { check: true } : {}),
        });
        s.print(registered, () => formatFirmware(registered));
      }),
    );

  firmware
    .command('list')
    .description('List firmware packages')
    .option('--product <key>', 'only this product')
    .option('--module <module>', 'only this module')
    .option('--verify-state <state>', 'unverified | verifying | verified | verify_failed')
    .option('--limit <n>', 'page size (1-1000)', integer(1, 1000), 50)
    .option('--offset <n>', 'skip this many', integer(0), 0)
    .action(
      apiAction<{ product?: string; module?: string; verifyState?: string; limit: number; offset: number }>(
        io,
        async (s) => {
          const o = s.options;
          const page = await s.api.firmware.list({
            productKey: o.product,
            module: o.module,
            verifyState: o.verifyState,
            limit: o.limit,
            offset: o.offset,
          });
          s.print(page, () =>
            [
              formatTable(
                [
                  { header: 'id', value: (f) => f.id, align: 'right' },
                  { header: 'product', value: (f) => f.productKey },
                  { header: 'module', value: (f) => f.module },
                  { header: 'version', value: (f) => f.version },
                  { header: 'size', value: (f) => formatBytes(f.size), align: 'right' },
                  { header: 'verify', value: (f) => f.verifyState },
                  { header: 'from', value: (f) => f.sourceVersions.join(',') },
                  { header: 'created', value: (f) => formatTime(f.createdAt) },
                ],
                page.items,
              ),
              pageFooter(page.items.length, page.total, o.offset, 'package'),
            ].join('\n'),
          );
        },
      ),
    );

  firmware
    .command('show <id>')
    .description('Show a firmware package')
    .action(
      apiAction(io, async (s, id) => {
        const found = await s.api.firmware.get(parseId(id, 'firmware id'));
        s.print(found, () => formatFirmware(found));
      }),
    );

  firmware
    .command('download <id>')
    .description('Download a package and check its sha256 (-o - writes to stdout)')
    .option('-o, --output <file>', 'where to write it (default: its file name, in this directory)')
    .option('--force', 'overwrite an existing file')
    .action(
      apiAction<{ output?: string; force?: boolean }>(io, async (s, id) => {
        const saved = await downloadFirmware(
          s,
          parseId(id, 'firmware id'),
          s.options.output,
          s.options.force,
        );
        // With -o - the file itself is on stdout: report on stderr only.
        if (saved.path === '-') return;
        s.print(saved, () => `saved ${saved.path} (${formatBytes(saved.size)}, sha256 ${saved.sha256})`);
      }),
    );

  firmware
    .command('delete <id>')
    .description('Delete a package and its file (refused while an unfinished job uses it)')
    .action(
      apiAction(io, async (s, id) => {
        const firmwareId = parseId(id, 'firmware id');
        await s.api.firmware.delete(firmwareId);
        s.print({ deleted: firmwareId }, () => `deleted firmware ${firmwareId}`);
      }),
    );

  return addConnectionOptions(firmware);
}

/** A package's details for humans. */
export function formatFirmware(f: Firmware): string {
  return formatDetails([
    ['id', f.id],
    ['product', f.productKey],
    ['module', f.module],
    ['version', f.version],
    ['upgrades from', f.sourceVersions.length ? f.sourceVersions.join(', ') : 'any version'],
    ['description', f.description],
    ['file', f.externalUrl ?? f.fileName],
    ['size', `${formatBytes(f.size)} (${f.size} bytes)`],
    ['md5', f.md5],
    ['sha256', f.sha256],
    ['signed', f.signature !== null],
    ['verify state', f.verifyDetail ? `${f.verifyState} (${f.verifyDetail})` : f.verifyState],
    ['created', formatTime(f.createdAt)],
  ]);
}
