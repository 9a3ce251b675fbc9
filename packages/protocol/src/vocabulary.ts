/**
 * The internal vocabulary every dialect is translated into at the edge.
 * Nothing past `@aloft/protocol` knows what `step: "-3"` or `state: "burning"` means.
 */

/** The MQTT dialect a product's devices speak. */
export type Dialect = 'aliyun' | 'tencent' | 'iothub';
export const DIALECTS: readonly Dialect[] = ['aliyun', 'tencent', 'iothub'];

/** The module a version belongs to when a device names none. */
export const DEFAULT_MODULE = 'default';

/** A device as the wire names it: product key (Tencent: productId; IotHub: productName) and device name. */
export interface DeviceRef {
  productKey: string;
  deviceName: string;
}

/** Normalized reason an upgrade failed on the device. */
export type UpgradeErrorCode =
  | 'download_failed'
  | 'verify_failed'
  | 'install_failed'
  | 'url_expired'
  | 'not_found'
  | 'timeout'
  | 'other';

/** Phase of an upgrade as a device reports it. */
export type ProgressPhase = 'downloading' | 'verifying' | 'installing' | 'failed';

/** The device reports the version currently running in one module. */
export interface VersionReport {
  kind: 'version';
  module: string;
  version: string;
}

/** The device reports progress of, or failure of, its current upgrade. */
export interface ProgressReport {
  kind: 'progress';
  /** Absent when the dialect does not say (Tencent); the server applies it to the device's active upgrade. */
  module?: string;
  /** Target version the device says it is working on, when the dialect carries it. */
  version?: string;
  phase: ProgressPhase;
  /** 0..100 when known. */
  percent?: number;
  /** Set when phase is `failed`. */
  error?: UpgradeErrorCode;
  /** The device's own words, kept for operators (never trusted for the error code). */
  message?: string;
}

/** The device asks for its pending upgrade task. */
export interface TaskRequest {
  kind: 'task_request';
  /** Absent means "any module". */
  module?: string;
  /** Echoed in the reply. */
  requestId: string | number;
  /** Which request shape it was: the reply must use the matching one. */
  form: 'firmware_get' | 'legacy_request';
  /** Legacy request carries the device's current version. */
  currentVersion?: string;
}

/**
 * The device asks for one block of a package over MQTT (Aliyun `/sys/${pk}/${dn}/thing/file/download`,
 * LinkSDK `aiot_mqtt_download_api.c`). The reply is binary: see `encodeFileBlockReply`.
 */
export interface FileBlockRequest {
  kind: 'file_block_request';
  /** The request's `id`; the binary reply carries none, so it is kept for logs only. */
  requestId: string | number;
  /** Token echoed in the reply header (LinkSDK always sends `"default"`). */
  fileToken?: string;
  /** `streamId` of the upgrade push's MQTT-download variant. */
  streamId: number;
  /** `streamFileId` of the upgrade push (the request calls it `fileId`). */
  fileId: number;
  /** Requested block size in bytes (LinkSDK default 5120). */
  size: number;
  /** Byte offset of the block in the file. */
  offset: number;
}

/** Everything a device can say that the server acts on. */
export type DeviceMessage = VersionReport | ProgressReport | TaskRequest | FileBlockRequest;

/** Digest algorithm a task tells the device to verify with. */
export type DigestAlgorithm = 'md5' | 'sha256';

/** An upgrade task as the server hands it to a device, before dialect encoding. */
export interface UpgradeTask {
  module: string;
  version: string;
  url: string;
  size: number;
  /** Lower-case hex; present whenever known. */
  md5?: string;
  /** Lower-case hex; present whenever known. */
  sha256?: string;
  /** Which digest the device must verify (dialects that carry only one use this). */
  digestAlgorithm: DigestAlgorithm;
  /** Base64 ed25519 signature over the sha256 digest (hex string bytes), when the product signs packages. */
  signature?: string;
  /** Delta package. */
  isDiff?: boolean;
  /** Free-form key/values passed to the device (Aliyun `extData`, at most 10 keys). */
  extData?: Record<string, string>;
  /** Message id for dialects that carry one. */
  id?: string | number;
  /** Unix seconds after which the offer (and its signed URL) is stale; IotHub puts it in the command topic. */
  expiresAt?: number;
  /**
   * Aliyun MQTT block download: when set, the push also carries `"dProtocol":"mqtt"`, `streamId` and
   * `streamFileId`, and LinkSDK fetches blocks over `/thing/file/download` instead of the URL.
   */
  mqttStream?: { streamId: number; fileId: number };
}

/** A message to publish. */
export interface OutboundMessage {
  topic: string;
  payload: string | Uint8Array;
  qos: 0 | 1;
}
