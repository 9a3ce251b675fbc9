import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import { DownloadError } from './download-error.js';

/**
 * Reads an ed25519 public key given as PEM (SPKI, `-----BEGIN PUBLIC KEY-----`), as the raw 32-byte key in
 * base64, or as a ready `KeyObject`. Throws a TypeError for anything else: a bad key is a configuration bug,
 * not a download failure.
 */
export function parseEd25519PublicKey(key: string | KeyObject): KeyObject {
  let parsed: KeyObject;
  if (typeof key !== 'string') {
    parsed = key;
  } else if (key.includes('-----BEGIN')) {
    parsed = createPublicKey(key);
  } else {
    const raw = Buffer.from(key.trim(), 'base64');
    if (raw.length !== 32) throw new TypeError('raw ed25519 public key must be 32 bytes in base64');
    parsed = createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') },
      format: 'jwk',
    });
  }
  if (parsed.type !== 'public' || parsed.asymmetricKeyType !== 'ed25519') {
    throw new TypeError('publicKey must be an ed25519 public key');
  }
  return parsed;
}

/**
 * Package signature scheme: `signature` is the base64 ed25519 signature over the UTF-8 bytes of the file's
 * lower-case hex sha256 (64 ASCII characters), i.e. `verify(null, Buffer.from(sha256Hex), publicKey, sig)`.
 * Signing the digest rather than the file lets the server sign without re-reading large blobs.
 *
 * When the device has a key, an unsigned task is refused too: otherwise stripping the signature from the task
 * would bypass the check.
 */
export function verifyPackageSignature(
  sha256Hex: string,
  signature: string | undefined,
  key: KeyObject,
): void {
  if (signature === undefined || signature === '') {
    throw new DownloadError('verify_failed', 'task is not signed but the device requires signed packages');
  }
  let valid: boolean;
  try {
    valid = verify(null, Buffer.from(sha256Hex, 'utf8'), key, Buffer.from(signature, 'base64'));
  } catch {
    valid = false; // malformed signature bytes
  }
  if (!valid) throw new DownloadError('verify_failed', 'package signature does not verify');
}
