/** Where a package stands with its test devices. */
export type VerifyState = 'unverified' | 'verifying' | 'verified' | 'verify_failed';

export interface Firmware {
  id: number;
  productKey: string;
  module: string;
  version: string;
  description: string;
  /** Versions this package may be applied to; empty = any. */
  sourceVersions: string[];
  fileName: string;
  size: number;
  md5: string | null;
  sha256: string | null;
  /** Blob store key of an uploaded package; null when externally hosted. */
  blobKey: string | null;
  /** URL of an externally hosted package, handed to devices unchanged. */
  externalUrl: string | null;
  /** Base64 ed25519 signature over the sha256 hex, when the product signs. */
  signature: string | null;
  verifyState: VerifyState;
  verifyDetail: string | null;
  createdAt: number;
}

export type NewFirmware = Omit<Firmware, 'id' | 'createdAt' | 'verifyState' | 'verifyDetail'>;

export interface FirmwareFilter {
  productKey?: string;
  module?: string;
  verifyState?: VerifyState;
  limit: number;
  offset: number;
}

export interface FirmwareRepository {
  /** Throws FIRMWARE_EXISTS when (product, module, version) is taken. */
  create(firmware: NewFirmware, now: number): Promise<Firmware>;
  get(id: number): Promise<Firmware | undefined>;
  find(productKey: string, module: string, version: string): Promise<Firmware | undefined>;
  list(filter: FirmwareFilter): Promise<{ items: Firmware[]; total: number }>;
  delete(id: number): Promise<boolean>;
  /** Compare-and-set: moves the state only from one of `from`; returns whether it moved. */
  setVerifyState(
    id: number,
    from: readonly VerifyState[],
    to: VerifyState,
    detail: string | null,
  ): Promise<boolean>;
}

/** Which unfinished jobs use a package (answered by the jobs module). */
export interface FirmwareUsage {
  unfinishedJobsUsing(firmwareId: number): Promise<number[]>;
}
