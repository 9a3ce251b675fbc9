/**
 * Device-side firmware download: resumable, verified, throttled. The MQTT side (`OtaDevice`) builds on this.
 */
export {
  type BandwidthLimitOptions,
  createBandwidthLimiter,
  type LimiterClock,
  realClock,
  TokenBucket,
} from './bandwidth-limiter.js';
export { type DownloadCheckpoint, readCheckpoint } from './checkpoint.js';
export { DownloadError } from './download-error.js';
export { type PackageFiles, packageFiles } from './package-files.js';
export {
  createProgressThrottle,
  type ProgressListener,
  type ProgressThrottle,
  type ProgressThrottleOptions,
} from './progress-throttle.js';
export { type DownloadOptions, type DownloadResult, downloadFirmware } from './resumable-download.js';
export { parseEd25519PublicKey, verifyPackageSignature } from './signature.js';
