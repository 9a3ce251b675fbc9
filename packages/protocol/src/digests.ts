import type { UpgradeTask } from './vocabulary.js';

const MD5_HEX = /^[0-9a-fA-F]{32}$/;
const SHA256_HEX = /^[0-9a-fA-F]{64}$/;

/** Lower-case md5 hex, or undefined when the value is not 32 hex digits. */
export function md5Hex(value: string | undefined): string | undefined {
  return value !== undefined && MD5_HEX.test(value) ? value.toLowerCase() : undefined;
}

/** Lower-case sha256 hex, or undefined when the value is not 64 hex digits. */
export function sha256Hex(value: string | undefined): string | undefined {
  return value !== undefined && SHA256_HEX.test(value) ? value.toLowerCase() : undefined;
}

/**
 * The task's md5 for dialects that carry only md5 (Tencent `md5sum`, IotHub `md5`). A task without one cannot
 * be verified by such a device, so encoding refuses it instead of sending an empty digest.
 */
export function requireMd5(task: UpgradeTask, dialect: string): string {
  const md5 = md5Hex(task.md5);
  if (md5 === undefined)
    throw new RangeError(`${dialect} tasks need a 32-hex-digit md5 (got ${String(task.md5)})`);
  return md5;
}

/** The digest the task says to verify with, as the dialect's `sign` (32 hex for md5, 64 for sha256). */
export function requireChosenDigest(task: UpgradeTask, dialect: string): string {
  if (task.digestAlgorithm === 'md5') return requireMd5(task, dialect);
  const sha256 = sha256Hex(task.sha256);
  if (sha256 === undefined) {
    throw new RangeError(`${dialect} tasks with digestAlgorithm sha256 need a 64-hex-digit sha256`);
  }
  return sha256;
}
