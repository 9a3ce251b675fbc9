import type { Dialect } from '@aloft/protocol';

export interface DeviceSummary {
  id: number;
  productKey: string;
  name: string;
  tags: string[];
  online: boolean;
  lastSeenAt: number | null;
  createdAt: number;
  /** Current version per module. */
  versions: Record<string, string>;
}

export interface ModuleVersion {
  module: string;
  version: string;
  reportedAt: number;
}

export interface DeviceDetail extends Omit<DeviceSummary, 'versions'> {
  versions: ModuleVersion[];
}

export interface NewDevice {
  productKey: string;
  name: string;
  secret: string;
  tags: string[];
}

export interface DeviceFilter {
  productKey?: string;
  /** With `version`: devices whose `module` (default `default`) runs this version. */
  module?: string;
  version?: string;
  tag?: string;
  online?: boolean;
  /** Substring of the device name. */
  search?: string;
  limit: number;
  offset: number;
}

/** What the MQTT broker needs to authenticate and authorize a device. */
export interface DeviceCredentialsRecord {
  id: number;
  secret: string;
  dialect: Dialect;
}

export interface ResolvedDevice {
  id: number;
  dialect: Dialect;
}

export interface CandidateQuery {
  productKey: string;
  module: string;
  afterId: number;
  limit: number;
  names?: readonly string[];
  reportedAfter?: number;
}

export interface TargetCandidateRow {
  id: number;
  name: string;
  tags: string[];
  version: string | undefined;
  reportedAt: number | undefined;
}

export interface VersionCount {
  module: string;
  version: string;
  devices: number;
}

export interface DeviceRepository {
  /** Creates all or none; throws DEVICE_EXISTS naming the first duplicate. */
  createMany(devices: NewDevice[], now: number): Promise<DeviceSummary[]>;
  find(productKey: string, name: string): Promise<DeviceDetail | undefined>;
  list(filter: DeviceFilter): Promise<{ items: DeviceSummary[]; total: number }>;
  setTags(productKey: string, name: string, tags: string[]): Promise<boolean>;
  delete(productKey: string, name: string): Promise<boolean>;
  credentials(productKey: string, name: string): Promise<DeviceCredentialsRecord | undefined>;
  /** Ids and dialects of many devices in one query; unknown ones are absent. Keyed by `productKey/deviceName`. */
  resolveMany(
    refs: readonly { productKey: string; deviceName: string }[],
  ): Promise<Map<string, ResolvedDevice>>;
  /**
   * One page of a product's devices (keyset by id) with their version of `module` and their tags, for job targeting.
   * `names` restricts to those names; `reportedAfter` to devices that reported that module's version since then.
   */
  targetCandidates(query: CandidateQuery): Promise<TargetCandidateRow[]>;
  /** Devices per version, for one product (and one module when given). */
  versionDistribution(productKey: string, module?: string): Promise<VersionCount[]>;
}
