/**
 * The shapes the management API returns, written by hand after the server's OpenAPI document (`/docs/json`).
 * When the generated OpenAPI client lands, these give way to its types.
 */

export type Dialect = 'aliyun' | 'tencent' | 'iothub';

export interface Page<T> {
  items: T[];
  total: number;
}

/** A page that names where the next one starts: pass `nextAfter` as `after`; null on the last page. */
export interface CursorPage<T> extends Page<T> {
  nextAfter: number | null;
}

export interface Product {
  key: string;
  name: string;
  dialect: Dialect;
  signingPublicKey: string | null;
  createdAt: number;
}

export interface VersionCount {
  module: string;
  version: string;
  devices: number;
}

export interface Device {
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

/** A device as returned once at registration: with its secret. */
export interface RegisteredDevice extends Device {
  secret: string;
}

export interface DeviceDetail extends Omit<Device, 'versions'> {
  versions: { module: string; version: string; reportedAt: number }[];
}

export interface DeviceInput {
  name: string;
  secret?: string;
  tags?: string[];
}

export interface DeviceQuery {
  version?: string;
  module?: string;
  tag?: string;
  online?: boolean;
  search?: string;
  limit?: number;
  offset?: number;
}

export interface ImportResult {
  created: number;
  devices: RegisteredDevice[];
}

export interface CreatedToken {
  id: number;
  name: string;
  token: string;
}

export type VerifyState = 'unverified' | 'verifying' | 'verified' | 'verify_failed';

export interface Firmware {
  id: number;
  productKey: string;
  module: string;
  version: string;
  description: string;
  sourceVersions: string[];
  fileName: string;
  size: number;
  md5: string | null;
  sha256: string | null;
  externalUrl: string | null;
  signature: string | null;
  verifyState: VerifyState | string;
  verifyDetail: string | null;
  createdAt: number;
}

/** The text fields of an upload; the file travels separately. */
export interface FirmwareUploadFields {
  version: string;
  module?: string;
  description?: string;
  sourceVersions?: string[];
  md5?: string;
  sha256?: string;
}

export interface ExternalFirmwareInput extends Omit<FirmwareUploadFields, 'md5' | 'sha256'> {
  url: string;
  size: number;
  md5?: string;
  sha256?: string;
  check?: boolean;
}

export interface FirmwareQuery {
  productKey?: string;
  module?: string;
  verifyState?: string;
  limit?: number;
  offset?: number;
}

export interface Strategy {
  startAt?: number;
  endAt?: number;
  maxPerMinute?: number;
  maxInFlight?: number;
  deviceTimeoutSeconds?: number;
  retries?: { count?: number; delaySeconds?: number };
  abort?: { failurePercent: number; minFinished: number };
  groups?: { percent: number; successThreshold: number }[];
}

export interface Targets {
  deviceNames?: string[];
  sourceVersions?: string[];
  tags?: string[];
  percent?: number;
}

/** Options every job creation accepts. */
export interface JobOptions {
  name?: string;
  strategy?: Strategy;
  supersede?: boolean;
}

export interface SingleJobInput extends JobOptions {
  firmwareId: number;
  deviceName: string;
}

export interface VerifyJobInput extends JobOptions {
  firmwareId: number;
  deviceNames: string[];
}

export interface BatchJobInput extends JobOptions {
  firmwareId: number;
  targets?: Targets;
  dynamic?: boolean;
  allowUnverified?: boolean;
}

export interface DeviceListJobInput {
  firmwareId: number;
  allowUnverified?: boolean;
  supersede?: boolean;
  name?: string;
}

export type JobState = 'scheduled' | 'running' | 'paused' | 'completed' | 'cancelled' | 'aborted';

export interface Job {
  id: number;
  kind: string;
  name: string;
  productKey: string;
  firmwareId: number;
  module: string;
  targetVersion: string;
  state: JobState | string;
  targets: unknown;
  sourceVersions: string[];
  strategy: unknown;
  dynamic: boolean;
  allowUnverified: boolean;
  supersede: boolean;
  parentJobId: number | null;
  currentGroup: number;
  selected: number;
  /** Devices already on the target version. */
  skipped: number;
  /** Devices left out because another upgrade of the module was active. */
  conflicts: number;
  reason: string | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
}

export type JobTab = 'pending' | 'upgrading' | 'succeeded' | 'failed' | 'cancelled';

export interface JobDetail extends Job {
  /** Devices per upgrade state (queued, notified, …). */
  counts: Record<string, number>;
  /** Devices per console tab. */
  tabs: Partial<Record<JobTab, number>>;
  total: number;
  /** succeeded / finished, 0..1; null before anything finished. */
  successRate: number | null;
  throughputPerMinute: number;
  /** Epoch ms when the rest should be done at the current pace; null when unknown. */
  eta: number | null;
}

export interface JobQuery {
  productKey?: string;
  state?: string;
  kind?: string;
  limit?: number;
  offset?: number;
}

export interface JobDevicesQuery {
  tab?: JobTab | 'all';
  search?: string;
  limit?: number;
  /** Not together with `after`. */
  offset?: number;
  /** The page after this upgrade id (the `nextAfter` of the page before): as fast at any depth. */
  after?: number;
}

export interface Upgrade {
  id: number;
  jobId: number;
  deviceId: number;
  module: string;
  targetVersion: string;
  sourceVersion: string | null;
  state: string;
  phase: string | null;
  percent: number | null;
  errorCode: string | null;
  errorMessage: string | null;
  attempt: number;
  groupIndex: number;
  queuedAt: number;
  notifiedAt: number | null;
  lastActivityAt: number;
  finishedAt: number | null;
  retryAt: number | null;
}

export interface UpgradeRow extends Upgrade {
  deviceName: string;
  currentVersion: string | null;
}

export interface Transition {
  id: number;
  fromState: string | null;
  toState: string;
  phase: string | null;
  percent: number | null;
  errorCode: string | null;
  message: string | null;
  at: number;
}

export interface UpgradeWithTransitions extends Upgrade {
  transitions: Transition[];
}

export interface DeviceUpgradeStatus {
  device: string;
  module: string;
  currentVersion: string | null;
  upgrade: Upgrade | null;
}

/** One change of one device's upgrade, as the SSE feed and webhooks carry it (docs/events.md). */
export interface UpgradeEvent {
  /** Position in the feed; increasing (the SSE `id:`). */
  id: number;
  type: 'upgrade.state' | string;
  jobId: number;
  upgradeId: number;
  deviceId: number;
  /** Null when the device was deleted since. */
  deviceName: string | null;
  productKey: string;
  /** Null for an upgrade's first event; equal to `toState` when only progress moved. */
  fromState: string | null;
  toState: string;
  phase: string | null;
  percent: number | null;
  errorCode: string | null;
  message: string | null;
  at: number;
}

export interface EventStreamQuery {
  /** Only this job's events. */
  jobId?: number;
  /** Start after this event id (0 = the whole history); default: from now on. */
  after?: number;
}

export interface Webhook {
  id: number;
  url: string;
  jobId: number | null;
  /** Empty = every event. */
  states: string[];
  cursor: number;
  createdAt: number;
}

export interface CreatedWebhook extends Webhook {
  /** HMAC key of X-Aloft-Signature; shown once. */
  secret: string;
}

export interface WebhookDetail extends Webhook {
  deliveries: { pending: number; delivered: number; failed: number };
}

export interface WebhookInput {
  url: string;
  secret?: string;
  jobId?: number;
  states?: string[];
}

export interface WebhookDelivery {
  id: number;
  webhookId: number;
  /** 0 for a test ping. */
  eventId: number;
  eventType: string;
  state: 'pending' | 'delivered' | 'failed' | string;
  attempts: number;
  nextAttemptAt: number;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: number;
  deliveredAt: number | null;
  body: string;
}

export interface DeliveryQuery {
  state?: string;
  limit?: number;
  offset?: number;
}
