/**
 * `@aloft/device`: the device SDK. {@link OtaDevice} takes firmware updates over MQTT in the product's dialect
 * (Aliyun, Tencent, IotHub) and downloads them with the resumable, verified downloader also exported here.
 */
export * from './download/index.js';
export { OtaDevice } from './ota-device.js';
export {
  DEFAULT_CREDENTIALS,
  type DeviceDownloadOptions,
  type DownloadRetryOptions,
  type Installer,
  type OtaDeviceEvents,
  type OtaDeviceOptions,
  type UpdateResult,
} from './ota-device-options.js';
export type { PendingReport } from './pending-reports.js';
export { ProgressReporter, type ProgressSender } from './progress-reporter.js';
export { UpdateError, type UpdateStep } from './update-error.js';
