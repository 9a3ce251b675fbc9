import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { UpgradeTask } from '@aloft/protocol';
import { afterEach, beforeEach } from 'vitest';
import type { LimiterClock } from '../bandwidth-limiter.js';

/** A firmware image with its digests. Deterministic bytes, so a failure reproduces. */
export interface FirmwareImage {
  bytes: Uint8Array;
  md5: string;
  sha256: string;
}

export function firmwareImage(size: number, seed = 1): FirmwareImage {
  const bytes = new Uint8Array(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[i] = x & 0xff;
  }
  return {
    bytes,
    md5: createHash('md5').update(bytes).digest('hex'),
    sha256: createHash('sha256').update(bytes).digest('hex'),
  };
}

export function taskFor(
  image: FirmwareImage,
  url: string,
  overrides: Partial<UpgradeTask> = {},
): UpgradeTask {
  return {
    module: 'MCU',
    version: '2.0.0',
    url,
    size: image.bytes.length,
    md5: image.md5,
    sha256: image.sha256,
    digestAlgorithm: 'sha256',
    ...overrides,
  };
}

/** A fresh data directory under the OS temp dir, and its cleanup. */
export async function tempDataDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'aloft-download-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Gives each test of the calling file a fresh data directory (`use` receives it), removed after the test. */
export function useTempDataDir(use: (dir: string) => void): void {
  let cleanup: (() => Promise<void>) | undefined;
  beforeEach(async () => {
    const created = await tempDataDir();
    cleanup = created.cleanup;
    use(created.dir);
  });
  afterEach(async () => {
    await cleanup?.();
  });
}

/** An ed25519 key pair and the package signature scheme's signer. */
export function signingKey(): {
  publicKeyPem: string;
  publicKeyRaw: string;
  sign(sha256Hex: string): string;
} {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const jwk = publicKey.export({ format: 'jwk' });
  return {
    publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    publicKeyRaw: Buffer.from(jwk.x ?? '', 'base64url').toString('base64'),
    sign: (sha256Hex) => sign(null, Buffer.from(sha256Hex, 'utf8'), privateKey).toString('base64'),
  };
}

/** Virtual time: `sleep` advances `now` at once and is counted. */
export function virtualClock(): LimiterClock & { sleeps: number[] } {
  let now = 0;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
  };
}
