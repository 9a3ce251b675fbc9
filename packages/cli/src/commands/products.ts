import { Command, Option } from 'commander';
import type { Dialect } from '../api/index.js';
import type { CliIo } from '../cli-io.js';
import { formatTime } from '../output/format.js';
import { formatDetails, formatTable } from '../output/table.js';
import { addConnectionOptions, apiAction } from './api-command.js';

/** `aloft products …`: create, list and inspect products. */
export function productsCommand(io: CliIo): Command {
  const products = new Command('products').description(
    'Products: groups of devices that speak one MQTT dialect',
  );

  products
    .command('create <key>')
    .description('Create a product (key: the product key / productId your devices use)')
    .addOption(
      new Option('--dialect <dialect>', 'MQTT dialect of its devices')
        .choices(['aliyun', 'tencent', 'iothub'])
        .makeOptionMandatory(),
    )
    .option('--name <name>', 'display name (default: the key)')
    .option('--signing', 'sign its firmware (ed25519)')
    .action(
      apiAction<{ dialect: Dialect; name?: string; signing?: boolean }>(io, async (s, key) => {
        const product = await s.api.products.create({
          key,
          name: s.options.name ?? key,
          dialect: s.options.dialect,
          ...(s.options.signing ? { signing: true } : {}),
        });
        s.print(product, () => `created product ${product.key} (${product.dialect})`);
      }),
    );

  products
    .command('list')
    .description('List products')
    .action(
      apiAction(io, async (s) => {
        const list = await s.api.products.list();
        s.print(list, () =>
          formatTable(
            [
              { header: 'key', value: (p) => p.key },
              { header: 'name', value: (p) => p.name },
              { header: 'dialect', value: (p) => p.dialect },
              { header: 'signing', value: (p) => p.signingPublicKey !== null },
              { header: 'created', value: (p) => formatTime(p.createdAt) },
            ],
            list,
          ),
        );
      }),
    );

  products
    .command('show <key>')
    .description('Show a product')
    .action(
      apiAction(io, async (s, key) => {
        const p = await s.api.products.get(key);
        s.print(p, () =>
          formatDetails([
            ['key', p.key],
            ['name', p.name],
            ['dialect', p.dialect],
            ['signing key', p.signingPublicKey ?? 'none (firmware is not signed)'],
            ['created', formatTime(p.createdAt)],
          ]),
        );
      }),
    );

  products
    .command('versions <key>')
    .description('How many devices run each version, per module')
    .option('--module <module>', 'only this module')
    .action(
      apiAction<{ module?: string }>(io, async (s, key) => {
        const versions = await s.api.products.versions(key, s.options.module);
        s.print(versions, () =>
          formatTable(
            [
              { header: 'module', value: (v) => v.module },
              { header: 'version', value: (v) => v.version },
              { header: 'devices', value: (v) => v.devices, align: 'right' },
            ],
            versions,
          ),
        );
      }),
    );

  return addConnectionOptions(products);
}
