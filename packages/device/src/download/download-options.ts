import type { KeyObject } from 'node:crypto';
import type { LimiterClock } from './bandwidth-limiter.js';
import type { HttpGet } from './http-get.js';
import type { ProgressListener } from './progress-throttle.js';

/** Options for `downloadFirmware`. */
export interface DownloadOptions {
  /** Data directory; holds `<module>.part`, `<module>.checkpoint.json` and the verified `<module>-<version>.bin`. */
  dir: string;
  /**
   * HTTP client; default `nodeHttpGet` (node:http, a connection of its own per download, closed when the
   * download is aborted). The fleet simulator passes one that injects faults.
   */
  httpGet?: HttpGet;
  /** A `fetch` to download with instead (see `fetchHttpGet`); ignored when `httpGet` is set. */
  fetchImpl?: typeof fetch;
  /**
   * Progress, throttled: at every 10% step and every 5 s within a step, but at most once a second; never
   * backwards, 99 at most while downloading and 100 once the file is verified. See `createProgressThrottle`.
   */
  onProgress?: ProgressListener;
  /** Cancels the download; the promise then rejects with `signal.reason` and the checkpoint is kept. */
  signal?: AbortSignal;
  /**
   * ed25519 public key (PEM, raw 32 bytes in base64, or a KeyObject). When set, every task must carry a valid
   * `signature` (see `verifyPackageSignature` for the scheme), else `verify_failed`.
   * When not set, `task.signature` is ignored.
   */
  publicKey?: string | KeyObject;
  /** Caps the download rate (token bucket); the fleet simulator uses it to model slow links. */
  bandwidthBytesPerSecond?: number;
  /** Clock the bandwidth cap waits on; default real time. Tests and simulations pass a virtual clock. */
  bandwidthClock?: LimiterClock;
  /** Milliseconds clock for progress throttling and checkpoint timing; default `performance.now`. */
  now?: () => number;
  /**
   * A checkpoint (write and fdatasync of the partial file, then a durable checkpoint write) is taken after this
   * many new bytes or `checkpointEveryMs` with new bytes, whichever comes first, and on every failure and abort.
   * A crash loses at most the bytes since the last one. Default 1 MiB.
   */
  checkpointEveryBytes?: number;
  /** See `checkpointEveryBytes`. Default 1000 ms. */
  checkpointEveryMs?: number;
  /** Gives up (`download_failed`, checkpoint kept) when no byte arrives for this long. Default 60 000 ms. */
  idleTimeoutMs?: number;
}

/** A downloaded and verified firmware file. */
export interface DownloadResult {
  /** `<dir>/<module>-<version>.bin` (module and version made file-name safe). */
  path: string;
  size: number;
  /** Lower-case hex digests of the file. */
  sha256: string;
  md5: string;
  /**
   * Byte offset the download resumed at; 0 when it started from scratch, including when a resume was
   * answered with 200 (no range support) or 416 and it started over.
   */
  resumedFrom: number;
}
