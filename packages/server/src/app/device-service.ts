import { randomBytes } from 'node:crypto';
import { aloftError } from '../errors.js';
import type { Clock } from './clock.js';
import { type DeviceImportRow, validateImport, validateTags } from './device-import.js';
import type {
  DeviceDetail,
  DeviceFilter,
  DeviceRepository,
  DeviceSummary,
  VersionCount,
} from './ports/device-repository.js';
import type { ProductRepository } from './ports/product-repository.js';

/** A registered device with its secret, shown once at creation. */
export interface RegisteredDevice extends DeviceSummary {
  secret: string;
}

/**
 * A fresh device secret. Base64 of 16 random bytes: Tencent's key auth base64-decodes the secret (its "PSK"),
 * and the Aliyun and plain schemes take it as text, so one format serves every dialect.
 */
export function generateDeviceSecret(): string {
  return randomBytes(16).toString('base64');
}

export class DeviceService {
  constructor(
    private readonly devices: DeviceRepository,
    private readonly products: ProductRepository,
    private readonly clock: Clock,
  ) {}

  /** Registers devices all-or-nothing; secrets not given are generated. Returns each device with its secret. */
  async register(productKey: string, rows: readonly DeviceImportRow[]): Promise<RegisteredDevice[]> {
    await this.requireProduct(productKey);
    validateImport(rows);
    const withSecrets = rows.map((r) => ({
      productKey,
      name: r.name,
      secret: r.secret ?? generateDeviceSecret(),
      tags: [...new Set(r.tags ?? [])],
    }));
    const created = await this.devices.createMany(withSecrets, this.clock());
    return created.map((d, i) => ({ ...d, secret: withSecrets[i]!.secret }));
  }

  async list(filter: DeviceFilter): Promise<{ items: DeviceSummary[]; total: number }> {
    return this.devices.list(filter);
  }

  async detail(productKey: string, name: string): Promise<DeviceDetail> {
    const device = await this.devices.find(productKey, name);
    if (!device) throw aloftError('DEVICE_NOT_FOUND', `${productKey}/${name}`);
    return device;
  }

  async setTags(productKey: string, name: string, tags: string[]): Promise<DeviceDetail> {
    validateTags(tags);
    if (!(await this.devices.setTags(productKey, name, [...new Set(tags)]))) {
      throw aloftError('DEVICE_NOT_FOUND', `${productKey}/${name}`);
    }
    return this.detail(productKey, name);
  }

  async delete(productKey: string, name: string): Promise<void> {
    if (!(await this.devices.delete(productKey, name)))
      throw aloftError('DEVICE_NOT_FOUND', `${productKey}/${name}`);
  }

  async versionDistribution(productKey: string, module?: string): Promise<VersionCount[]> {
    await this.requireProduct(productKey);
    return this.devices.versionDistribution(productKey, module);
  }

  private async requireProduct(productKey: string): Promise<void> {
    if (!(await this.products.get(productKey))) throw aloftError('PRODUCT_NOT_FOUND', productKey);
  }
}
