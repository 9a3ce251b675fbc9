import type { Generated } from 'kysely';

/**
 * Table types for Kysely. One schema for SQLite and PostgreSQL: timestamps are epoch milliseconds (bigint),
 * flags are integers 0/1, lists are JSON text, so the same queries run on both.
 */
export interface Database {
  settings: SettingTable;
  products: ProductTable;
  devices: DeviceTable;
  device_tags: DeviceTagTable;
  device_versions: DeviceVersionTable;
  api_tokens: ApiTokenTable;
  firmware: FirmwareTable;
  jobs: JobTable;
  upgrades: UpgradeTable;
  upgrade_events: UpgradeEventTable;
  job_upgrade_counts: JobUpgradeCountTable;
  webhooks: WebhookTable;
  webhook_deliveries: WebhookDeliveryTable;
  server_instances: ServerInstanceTable;
}

export interface ProductTable {
  key: string;
  name: string;
  dialect: string;
  /** PEM ed25519 public key when the product signs its packages. */
  signing_public_key: string | null;
  /** PEM ed25519 private key; never leaves the server. */
  signing_private_key: string | null;
  created_at: number;
}

export interface DeviceTable {
  id: Generated<number>;
  product_key: string;
  name: string;
  /** The device secret. Kept in clear because the Aliyun and Tencent schemes verify an HMAC keyed by it. */
  secret: string;
  online: number;
  last_seen_at: number | null;
  created_at: number;
}

export interface DeviceTagTable {
  device_id: number;
  tag: string;
}

export interface DeviceVersionTable {
  device_id: number;
  module: string;
  version: string;
  reported_at: number;
}

export interface ApiTokenTable {
  id: Generated<number>;
  name: string;
  /** sha256 hex of the token; the token itself is shown once and never stored. */
  token_hash: string;
  created_at: number;
  last_used_at: number | null;
}

export interface FirmwareTable {
  id: Generated<number>;
  product_key: string;
  module: string;
  version: string;
  description: string;
  /** JSON array of versions this package may be applied to; empty = any. */
  source_versions: string;
  file_name: string;
  size: number;
  md5: string | null;
  sha256: string | null;
  /** Blob store key of an uploaded package; null for an externally hosted one. */
  blob_key: string | null;
  /** URL of an externally hosted package, handed to devices unchanged. */
  external_url: string | null;
  /** Base64 ed25519 signature over the sha256 hex, when the product signs packages. */
  signature: string | null;
  verify_state: string;
  verify_detail: string | null;
  created_at: number;
}

/** Server-wide values every instance must share (e.g. the download URL signing key). */
export interface SettingTable {
  key: string;
  value: string;
}

export interface JobTable {
  id: Generated<number>;
  /** single | verify | batch | retry */
  kind: string;
  product_key: string;
  firmware_id: number;
  module: string;
  target_version: string;
  /** scheduled | running | paused | completed | cancelled | aborted */
  state: string;
  name: string;
  /** JSON TargetSpec (device names, source versions, tags, percent). */
  targets: string;
  /** JSON array: versions that mean "not upgraded yet" for the success rule. */
  source_versions: string;
  /** JSON RolloutStrategy. */
  strategy: string;
  dynamic: number;
  allow_unverified: number;
  supersede: number;
  parent_job_id: number | null;
  /** Staged groups: the highest group index allowed to dispatch. */
  current_group: number;
  selected: number;
  /** Devices already on the target version when selected. */
  skipped: number;
  /** Devices left out because they had another active upgrade of the module. */
  conflicts: number;
  /** Why the job ended (abort reason, cancel note). */
  reason: string | null;
  /** Dynamic jobs: version reports up to this time have been considered for enrolment. */
  enrolled_until: number;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
}

export interface UpgradeTable {
  id: Generated<number>;
  job_id: number;
  device_id: number;
  module: string;
  target_version: string;
  /** The version the device ran when selected. */
  source_version: string | null;
  state: string;
  phase: string | null;
  percent: number | null;
  error_code: string | null;
  error_message: string | null;
  attempt: number;
  group_index: number;
  /** 1 while the upgrade is not in a terminal state; a unique partial index keeps one active per device+module. */
  active: number;
  queued_at: number;
  notified_at: number | null;
  last_activity_at: number;
  finished_at: number | null;
  /** When an automatic retry is due (failed / timed_out with retries left). */
  retry_at: number | null;
}

/** How many of a job's upgrades are in each state; written with every upgrade write (store/upgrade-counts.ts). */
export interface JobUpgradeCountTable {
  job_id: number;
  state: string;
  n: number;
}

export interface UpgradeEventTable {
  id: Generated<number>;
  upgrade_id: number;
  job_id: number;
  device_id: number;
  from_state: string | null;
  to_state: string;
  phase: string | null;
  percent: number | null;
  error_code: string | null;
  message: string | null;
  at: number;
}

export interface WebhookTable {
  id: Generated<number>;
  url: string;
  secret: string;
  /** Only events of this job; null = all jobs. */
  job_id: number | null;
  /** JSON array of upgrade states to send; empty = all. */
  events: string;
  /** Last upgrade_events id turned into deliveries. */
  cursor: number;
  created_at: number;
}

export interface WebhookDeliveryTable {
  id: Generated<number>;
  webhook_id: number;
  event_id: number;
  body: string;
  /** pending | delivered | failed */
  state: string;
  attempts: number;
  next_attempt_at: number;
  last_status: number | null;
  last_error: string | null;
  created_at: number;
  delivered_at: number | null;
}

/** Server instances sharing this database (scaled mode); one whose heartbeat is too old is dead. */
export interface ServerInstanceTable {
  /** The instance's MQTT client id, new on every start. */
  id: string;
  host: string;
  started_at: number;
  heartbeat_at: number;
}
