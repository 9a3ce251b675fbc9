import { readFile, writeFile } from 'node:fs/promises';
import type { Dialect } from '@aloft/protocol';
import { Command, Option } from 'commander';
import { CliError, type CliIo } from '../cli-io.js';
import { addConnectionOptions, apiAction, DEFAULT_SERVER_URL } from '../commands/api-command.js';
import { decimal, integer } from '../commands/option-parsers.js';
import { abortable } from './abortable.js';
import { Fleet } from './fleet.js';
import { parseDevicesFile, provisionFleet } from './fleet-provisioning.js';
import { finalReportJson, formatFinalReport, isUnfinished } from './fleet-report.js';
import { LiveStatus } from './live-status.js';

interface SimulateOptions {
  server?: string;
  mqtt?: string;
  product?: string;
  dialect?: Dialect;
  devices?: number;
  prefix: string;
  devicesFile?: string;
  saveDevices?: string;
  version: string;
  module: string;
  installMs: number;
  failDownload?: number;
  failVerify?: number;
  failInstall?: number;
  drop?: number;
  offline?: number;
  offlineSeconds: number;
  bandwidth?: number;
  connectRate: number;
  retryDelayMs: number;
  duration?: number;
  untilIdle?: number | true;
  expectSuccess?: boolean;
  seed?: number;
  dataDir?: string;
}

const DEFAULT_PRODUCT = 'aloft-sim';
const DEFAULT_QUIET_SECONDS = 5;
const fraction = decimal(0, 1);

/** `aloft simulate`: plays a device fleet against a server, with real MQTT connections and downloads. */
export function simulateCommand(io: CliIo): Command {
  const command = new Command('simulate')
    .description(
      'Simulate a device fleet: registers and connects devices, which download, verify and "install" ' +
        'every update they are sent (with the device SDK), with injected faults',
    )
    .option('--mqtt <url>', 'MQTT broker URL (default: mqtt:// on the --server host, port 1883)')
    .option('--product <key>', `product of the devices, created when missing (default ${DEFAULT_PRODUCT})`)
    .addOption(
      new Option('--dialect <dialect>', 'dialect of a product created here (default aliyun)').choices([
        'aliyun',
        'tencent',
        'iothub',
      ]),
    )
    .option(
      '--devices <n>',
      'devices to register (default 10), or to take from --devices-file',
      integer(1, 100_000),
    )
    .option('--prefix <prefix>', 'name prefix of registered devices: <prefix>00001…', 'sim-')
    .option('--devices-file <file>', 'use these registered devices (an import response, see --save-devices)')
    .option(
      '--save-devices <file>',
      'write the registered devices with their secrets here, for --devices-file',
    )
    .option('--version <version>', 'version the devices start at', '1.0.0')
    .option('--module <module>', 'module the devices run and update', 'default')
    .option('--install-ms <ms>', 'how long installing a package takes', integer(0), 1000)
    .option('--fail-download <fraction>', 'fraction of devices whose downloads always break off', fraction)
    .option('--fail-verify <fraction>', 'fraction of devices that receive corrupted packages', fraction)
    .option('--fail-install <fraction>', 'fraction of devices whose install fails', fraction)
    .option(
      '--drop <fraction>',
      'fraction of devices whose download connection drops once (they resume)',
      fraction,
    )
    .option('--offline <fraction>', 'fraction of devices that lose power once mid-download', fraction)
    .option('--offline-seconds <s>', 'how long those devices stay off', decimal(0, 86_400), 10)
    .option('--bandwidth <bytes/s>', 'download rate cap per device', integer(1))
    .option('--connect-rate <n>', 'new MQTT connections per second', decimal(0.1, 100_000), 200)
    .option('--retry-delay-ms <ms>', 'first wait before a device retries a broken download', integer(0), 1000)
    .option('--duration <seconds>', 'stop after this long', decimal(0, 30 * 86_400))
    .option(
      '--until-idle [seconds]',
      `stop once devices got updates and none changed state for this long (default ${DEFAULT_QUIET_SECONDS})`,
      decimal(0, 86_400),
    )
    .option('--expect-success', 'exit 1 when a device failed, or was still busy when the run ended')
    .option('--seed <n>', 'deal the faults as a run with this seed did', integer(0, 2 ** 31 - 1))
    .option('--data-dir <dir>', "keep the devices' files here (default: a temporary directory, removed)")
    .addHelpText(
      'after',
      '\nWithout --duration or --until-idle the fleet runs until Ctrl-C. The live summary goes to stderr, the final' +
        '\ntable (or --json) to stdout. Device names are registered once: to run the same devices again, save them' +
        '\nwith --save-devices and pass --devices-file, or use a fresh --prefix. One process can hold ~19,900 open' +
        '\nfiles: a device holds 1 (MQTT), 3 while downloading (+ HTTP connection, partial file). Keep devices +' +
        "\n2 x downloads at once below that (a job's --max-in-flight bounds the downloads); above ~15,000 devices," +
        '\nrun several simulators.',
    )
    .action(apiAction<SimulateOptions>(io, (s) => simulate(s.api, s.options, io, s.json)));
  return addConnectionOptions(command);
}

async function simulate(
  api: Parameters<typeof provisionFleet>[0],
  o: SimulateOptions,
  io: CliIo,
  json: boolean,
): Promise<void> {
  const note = (text: string) => io.stderr.write(`${text}\n`);
  // Checked before anything is registered: a device fails in one way at most.
  if ((o.failDownload ?? 0) + (o.failVerify ?? 0) + (o.failInstall ?? 0) > 1) {
    throw new CliError('--fail-download + --fail-verify + --fail-install add up to more than 1');
  }
  if (o.dialect === 'tencent' && o.module !== 'default') {
    throw new CliError('tencent devices have one module: drop --module');
  }
  const file = o.devicesFile ? parseDevicesFile(await readDevicesFile(o.devicesFile)) : undefined;
  const productKey = o.product ?? file?.productKey ?? DEFAULT_PRODUCT;
  const provisioned = await provisionFleet(api, {
    productKey,
    ...(o.dialect ? { dialect: o.dialect } : {}),
    ...(o.devices !== undefined ? { count: o.devices } : {}),
    prefix: o.prefix,
    ...(file ? { existing: file.devices } : {}),
  });
  const { product, devices } = provisioned;
  if (provisioned.productCreated) note(`created product ${product.key} (${product.dialect})`);
  if (provisioned.imported) {
    note(`registered ${devices.length} devices: ${devices[0]?.name} … ${devices.at(-1)?.name}`);
    if (o.saveDevices) {
      // The secrets are in there: readable by the owner only.
      await writeFile(o.saveDevices, `${JSON.stringify(provisioned.imported, null, 2)}\n`, { mode: 0o600 });
      note(`saved them with their secrets to ${o.saveDevices} (reuse with --devices-file)`);
    }
  }

  const brokerUrl = o.mqtt ?? brokerNextTo(o.server || io.env.ALOFT_URL || DEFAULT_SERVER_URL);
  const fleet = new Fleet({
    brokerUrl,
    product,
    devices,
    module: o.module,
    version: o.version,
    installMs: o.installMs,
    faults: {
      ...(o.failDownload !== undefined ? { failDownload: o.failDownload } : {}),
      ...(o.failVerify !== undefined ? { failVerify: o.failVerify } : {}),
      ...(o.failInstall !== undefined ? { failInstall: o.failInstall } : {}),
      ...(o.drop !== undefined ? { drop: o.drop } : {}),
      ...(o.offline !== undefined ? { offline: o.offline } : {}),
    },
    offlineMs: o.offlineSeconds * 1000,
    ...(o.bandwidth !== undefined ? { bandwidthBytesPerSecond: o.bandwidth } : {}),
    connectRate: o.connectRate,
    retryDelayMs: o.retryDelayMs,
    ...(o.seed !== undefined ? { seed: o.seed } : {}),
    ...(o.dataDir ? { dataDir: o.dataDir } : {}),
  });
  note(`connecting ${fleet.size} devices to ${brokerUrl} (at most ${o.connectRate}/s)`);

  const end = new AbortController();
  const stop = () => end.abort(new Error('stopped'));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const timer = o.duration === undefined ? undefined : setTimeout(stop, o.duration * 1000);
  const live = new LiveStatus(io.stderr, fleet);
  live.start();
  try {
    await abortable(fleet.start(), end.signal);
    if (o.untilIdle !== undefined) {
      const quietSeconds = o.untilIdle === true ? DEFAULT_QUIET_SECONDS : o.untilIdle;
      await fleet.waitUntilIdle({ quietMs: quietSeconds * 1000, signal: end.signal });
    } else {
      await new Promise((resolve) => end.signal.addEventListener('abort', resolve, { once: true }));
    }
  } catch (error) {
    if (!end.signal.aborted) throw error;
  } finally {
    clearTimeout(timer);
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await fleet.stop();
    live.stop();
  }

  const snapshot = fleet.snapshot();
  const reports = fleet.devices();
  io.stdout.write(
    json
      ? `${JSON.stringify(finalReportJson(snapshot, reports, product), null, 2)}\n`
      : `${formatFinalReport(snapshot, reports, product)}\n`,
  );
  if (o.expectSuccess) {
    const failed = snapshot.states.failed;
    const unfinished = reports.filter((d) => isUnfinished(d.state)).length;
    if (failed + unfinished > 0) {
      throw new CliError(`expected success, but ${failed} devices failed and ${unfinished} did not finish`);
    }
  }
}

/** No API names the broker: assume it listens on the server's host, on the standard MQTT port. */
export function brokerNextTo(serverUrl: string): string {
  return `mqtt://${new URL(serverUrl).hostname}:1883`;
}

async function readDevicesFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read the devices file: ${(error as Error).message}`);
  }
}
