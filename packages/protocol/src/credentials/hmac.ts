import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { SignMethod } from './types.js';

const ALGORITHMS: Readonly<Record<SignMethod, string>> = {
  hmacsha1: 'sha1',
  hmacsha256: 'sha256',
  hmacmd5: 'md5',
};

/** A sign method named on the wire (case-insensitive), or undefined when unknown. */
export function signMethodOf(name: string | undefined): SignMethod | undefined {
  const lower = name?.toLowerCase();
  return lower !== undefined && Object.hasOwn(ALGORITHMS, lower) ? (lower as SignMethod) : undefined;
}

/** Lower-case hex HMAC of `content` under `key`. */
export function hmacHex(method: SignMethod, key: string | Uint8Array, content: string): string {
  return createHmac(ALGORITHMS[method], key).update(content, 'utf8').digest('hex');
}

/**
 * Compares two strings in time independent of where they differ and of their lengths: both are hashed
 * first, so `timingSafeEqual` always sees 32 bytes.
 */
export function safeEqual(a: string, b: string): boolean {
  const da = createHash('sha256').update(a, 'utf8').digest();
  const db = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(da, db);
}
