import type { Dialect } from '@aloft/protocol';
import { type AloftApi, ApiError, type ImportResult, type Product } from '../api/index.js';
import { CliError } from '../cli-io.js';
import type { FleetProduct } from './fleet.js';
import type { DeviceIdentity } from './simulated-device.js';

/** Options for {@link provisionFleet}. */
export interface ProvisionOptions {
  productKey: string;
  /** The dialect of a product created here (default `aliyun`); an existing product must have it too. */
  dialect?: Dialect;
  /** Devices to register: `<prefix><number>`, numbered from 1 and zero-padded (`sim-00001`). */
  count?: number;
  /** Default `sim-`. */
  prefix?: string;
  /** Use these registered devices instead of registering new ones (see {@link parseDevicesFile}). */
  existing?: readonly DeviceIdentity[];
}

/** What a fleet needs to run, as {@link provisionFleet} set it up. */
export interface ProvisionedFleet {
  product: FleetProduct;
  devices: DeviceIdentity[];
  productCreated: boolean;
  /** The import response when devices were registered: keep it (`--save-devices`) to run them again. */
  imported: ImportResult | undefined;
}

/**
 * Makes sure the product exists (creating it when missing) and registers `count` devices through the
 * management API in one all-or-nothing import, or takes `existing` ones. Registration never reuses names:
 * when one is taken (an earlier run registered it), it fails with advice, because the server shows a device's
 * secret only once: reuse those devices with the import response saved back then, or pick a fresh prefix.
 */
export async function provisionFleet(api: AloftApi, options: ProvisionOptions): Promise<ProvisionedFleet> {
  const { product, created: productCreated } = await ensureProduct(api, options.productKey, options.dialect);
  const fleetProduct: FleetProduct = {
    key: product.key,
    dialect: product.dialect,
    signingPublicKey: product.signingPublicKey,
  };
  if (options.existing) {
    const devices =
      options.count === undefined ? [...options.existing] : options.existing.slice(0, options.count);
    return { product: fleetProduct, devices, productCreated, imported: undefined };
  }
  const names = deviceNames(options.prefix ?? 'sim-', options.count ?? 10);
  let imported: ImportResult;
  try {
    imported = await api.devices.import(product.key, { devices: names.map((name) => ({ name })) });
  } catch (error) {
    if (error instanceof ApiError && error.status === 409) {
      throw new CliError(
        `${error.message}: devices named ${names[0]}… were registered before, and the server shows secrets only ` +
          'once. Reuse them with --devices-file <the file an earlier --save-devices wrote>, or register new ' +
          'ones with a fresh --prefix.',
      );
    }
    throw error;
  }
  const devices = imported.devices.map(({ name, secret }) => ({ name, secret }));
  return { product: fleetProduct, devices, productCreated, imported };
}

/** `<prefix>00001` … : numbered from 1, at least five digits so names sort in order. */
export function deviceNames(prefix: string, count: number): string[] {
  const width = Math.max(5, String(count).length);
  return Array.from({ length: count }, (_, i) => `${prefix}${String(i + 1).padStart(width, '0')}`);
}

/**
 * Reads a devices file: the JSON an import returned (`{"created":…,"devices":[{"name","secret","productKey"…}]}`,
 * as `--save-devices` writes it), `{"devices":[…]}`, or a bare array of `{name, secret}`.
 * Returns the devices and the product key they name, if they do.
 */
export function parseDevicesFile(text: string): {
  productKey: string | undefined;
  devices: DeviceIdentity[];
} {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CliError(`the devices file is not JSON: ${(error as Error).message}`);
  }
  const list = Array.isArray(parsed) ? parsed : (parsed as { devices?: unknown } | null)?.devices;
  if (!Array.isArray(list) || list.length === 0) {
    throw new CliError(
      'the devices file must hold a non-empty list of {"name","secret"} (an import response)',
    );
  }
  let productKey: string | undefined;
  const devices = list.map((entry: unknown, i) => {
    const row = entry as { name?: unknown; secret?: unknown; productKey?: unknown } | null;
    if (typeof row?.name !== 'string' || typeof row.secret !== 'string') {
      throw new CliError(`devices file, entry ${i + 1}: needs a string "name" and "secret"`);
    }
    if (typeof row.productKey === 'string') productKey ??= row.productKey;
    return { name: row.name, secret: row.secret };
  });
  return { productKey, devices };
}

async function ensureProduct(
  api: AloftApi,
  key: string,
  dialect: Dialect | undefined,
): Promise<{ product: Product; created: boolean }> {
  try {
    const product = await api.products.get(key);
    if (dialect !== undefined && product.dialect !== dialect) {
      throw new CliError(
        `product ${key} speaks ${product.dialect}, not ${dialect}: drop --dialect or use another product`,
      );
    }
    return { product, created: false };
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 404) throw error;
  }
  const product = await api.products.create({ key, name: key, dialect: dialect ?? 'aliyun' });
  return { product, created: true };
}
