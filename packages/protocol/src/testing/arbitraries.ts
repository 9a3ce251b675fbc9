import fc from 'fast-check';
import type {
  DeviceRef,
  ProgressReport,
  TaskRequest,
  UpgradeErrorCode,
  UpgradeTask,
  VersionReport,
} from '../vocabulary.js';
import { isWireName } from '../wire-values.js';

/** Versions and module names: mostly ASCII, sometimes any Unicode that is still a valid wire name. */
export const wireName: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[A-Za-z0-9._~+-]{1,64}$/) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 16 }).filter(isWireName) },
);

const topicLevel = fc.stringMatching(/^[A-Za-z0-9_.:@-]{1,32}$/);

/** A device that fits Aliyun and IotHub topics. */
export const device: fc.Arbitrary<DeviceRef> = fc.record({ productKey: topicLevel, deviceName: topicLevel });

/** A Tencent device: product ids are 10 alphanumerics. */
export const tencentDevice: fc.Arbitrary<DeviceRef> = fc.record({
  productKey: fc.stringMatching(/^[A-Z0-9]{10}$/),
  deviceName: topicLevel,
});

export const md5Hex = fc.stringMatching(/^[0-9a-f]{32}$/);
export const sha256Hex = fc.stringMatching(/^[0-9a-f]{64}$/);
const message = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 80 });

export const ERROR_CODES: readonly UpgradeErrorCode[] = [
  'download_failed',
  'verify_failed',
  'install_failed',
  'url_expired',
  'not_found',
  'timeout',
  'other',
];

/** Any upgrade task the server could hand out (always with an md5, sometimes also a sha256). */
export const upgradeTask: fc.Arbitrary<UpgradeTask> = fc
  .record(
    {
      module: wireName,
      version: wireName,
      url: fc.webUrl({ withQueryParameters: true }),
      size: fc.nat(),
      md5: md5Hex,
      sha256: sha256Hex,
      digestAlgorithm: fc.constantFrom('md5' as const, 'sha256' as const),
      signature: fc.base64String({ minLength: 4, maxLength: 88 }),
      isDiff: fc.boolean(),
      extData: fc.dictionary(
        fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,15}$/),
        fc.string({ unit: 'grapheme', maxLength: 20 }),
        { maxKeys: 10 },
      ),
      id: fc.nat(),
      expiresAt: fc.integer({ min: 1_500_000_000, max: 4_000_000_000 }),
      mqttStream: fc.record({ streamId: fc.nat(), fileId: fc.nat() }),
    },
    { requiredKeys: ['module', 'version', 'url', 'size', 'md5', 'digestAlgorithm'] },
  )
  .map((task) =>
    task.digestAlgorithm === 'sha256' && task.sha256 === undefined
      ? { ...task, digestAlgorithm: 'md5' }
      : task,
  );

export const versionReport: fc.Arbitrary<VersionReport> = fc.record({
  kind: fc.constant('version' as const),
  module: wireName,
  version: wireName,
});

const progressCommon = {
  kind: fc.constant('progress' as const),
  module: wireName,
  version: wireName,
  message,
};

export const progressReport: fc.Arbitrary<ProgressReport> = fc.oneof(
  fc.record(
    {
      ...progressCommon,
      phase: fc.constantFrom('downloading' as const, 'verifying' as const, 'installing' as const),
      percent: fc.integer({ min: 0, max: 100 }),
    },
    { requiredKeys: ['kind', 'phase'] },
  ),
  fc.record(
    { ...progressCommon, phase: fc.constant('failed' as const), error: fc.constantFrom(...ERROR_CODES) },
    { requiredKeys: ['kind', 'phase', 'error'] },
  ),
);

const requestId = fc.oneof(fc.nat(), fc.stringMatching(/^[0-9A-Za-z-]{1,20}$/));

export const taskRequest: fc.Arbitrary<TaskRequest> = fc.oneof(
  fc.record(
    {
      kind: fc.constant('task_request' as const),
      form: fc.constant('firmware_get' as const),
      requestId,
      module: wireName,
    },
    { requiredKeys: ['kind', 'form', 'requestId'] },
  ),
  fc.record(
    {
      kind: fc.constant('task_request' as const),
      form: fc.constant('legacy_request' as const),
      requestId,
      currentVersion: wireName,
    },
    { requiredKeys: ['kind', 'form', 'requestId'] },
  ),
);
