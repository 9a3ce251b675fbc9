/**
 * A device that takes firmware updates from an Aloft server and "installs" them by copying the file.
 *
 *   npm run build && npm run example -w @aloft/device
 *
 * Environment:
 *   ALOFT_MQTT_URL         broker the server uses (default mqtt://127.0.0.1:1883)
 *   ALOFT_PRODUCT_KEY      product key (Tencent: the 10-character productId)       required
 *   ALOFT_DEVICE_NAME      device name                                            required
 *   ALOFT_DEVICE_SECRET    the secret shown when the device was registered        required
 *   ALOFT_DIALECT          aliyun | tencent | iothub (default aliyun)
 *   ALOFT_MODULE           module to update (default "default")
 *   ALOFT_VERSION          version running on first start (default 1.0.0)
 *   ALOFT_DATA_DIR         device state directory (default .aloft/device)
 *   ALOFT_PUBLIC_KEY_FILE  PEM public key of a signing product (optional)
 *
 * The installed version is kept in <data dir>/installed/version.json, so a restart reports what was installed.
 */
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { OtaDevice } from '@aloft/device';
import type { Dialect, UpgradeTask } from '@aloft/protocol';

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    console.error(`set ${name} (see the comment at the top of this file)`);
    process.exit(2);
  }
  return value;
}

const dataDir = resolve(process.env.ALOFT_DATA_DIR ?? '.aloft/device');
const installDir = join(dataDir, 'installed');
const versionFile = join(installDir, 'version.json');
const module = process.env.ALOFT_MODULE ?? 'default';

async function installedVersion(): Promise<string> {
  try {
    const saved = JSON.parse(await readFile(versionFile, 'utf8')) as Record<string, string>;
    if (saved[module]) return saved[module];
  } catch {
    // first start: nothing installed yet
  }
  return process.env.ALOFT_VERSION ?? '1.0.0';
}

/** "Installs" by copying the verified file next to the device state, and remembers the version. */
async function install(file: string, task: UpgradeTask): Promise<void> {
  await mkdir(installDir, { recursive: true });
  const target = join(installDir, `${task.module}-${task.version}.bin`);
  await copyFile(file, target);
  await writeFile(versionFile, JSON.stringify({ [task.module]: task.version }));
  console.log(`installed ${task.module} ${task.version} as ${target}`);
}

const publicKeyFile = process.env.ALOFT_PUBLIC_KEY_FILE;
const device = new OtaDevice({
  brokerUrl: process.env.ALOFT_MQTT_URL ?? 'mqtt://127.0.0.1:1883',
  productKey: required('ALOFT_PRODUCT_KEY'),
  deviceName: required('ALOFT_DEVICE_NAME'),
  secret: required('ALOFT_DEVICE_SECRET'),
  dialect: (process.env.ALOFT_DIALECT ?? 'aliyun') as Dialect,
  modules: { [module]: await installedVersion() },
  dataDir,
  ...(publicKeyFile ? { publicKey: await readFile(publicKeyFile, 'utf8') } : {}),
  autoUpdate: { install },
});

device.on('connect', () => console.log(`connected; reported ${JSON.stringify(device.modules)}`));
device.on('offline', () => console.log('connection lost, reconnecting…'));
device.on('error', (error) => console.error('connection error:', error.message));
device.on('upgrade', (task) => console.log('upgrade task:', JSON.stringify(task, null, 2)));
device.on('progress', (task, percent) => console.log(`downloading ${task.version}: ${percent}%`));
device.on('updated', ({ task }) => console.log(`now running ${task.module} ${task.version} (reported)`));
device.on('update-failed', (task, error) =>
  console.error(`update to ${task.version} failed: ${error.code}: ${error.message}`),
);

await device.connect();
console.log('waiting for tasks; Ctrl-C to stop');
// Aliyun devices can ask for a task pushed while they were offline; the other dialects get it re-pushed.
await device.requestTask(module);

process.once('SIGINT', () => {
  console.log('closing');
  device.close().then(() => process.exit(0));
});
