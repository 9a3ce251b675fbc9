/**
 * Device-side firmware download: resumable, verified, throttled. The MQTT side (`OtaDevice`) builds on this.
 */
export {
  type BandwidthLimitOptions,
  createBandwidthLimiter,
  type LimiterClock,
  limitBandwidth,
  realClock,
  TokenBucket,
} from './bandwidth-limiter.js';
export { type DownloadCheckpoint, readCheckpoint } from './checkpoint.js';
export { DownloadError } from './download-error.js';
export type { DownloadOptions, DownloadResult } from './download-options.js';
export { fetchHttpGet } from './fetch-http-get.js';
export type { HttpGet, HttpGetOptions, HttpGetResponse } from './http-get.js';
export { nodeHttpGet } from './node-http-get.js';
export { type PackageFiles, packageFiles } from './package-files.js';
export {
  createProgressThrottle,
  type ProgressListener,
  type ProgressThrottle,
  type ProgressThrottleOptions,
  type Schedule,
} from './progress-throttle.js';
export { downloadFirmware } from './resumable-download.js';
export { parseEd25519PublicKey, verifyPackageSignature } from './signature.js';
