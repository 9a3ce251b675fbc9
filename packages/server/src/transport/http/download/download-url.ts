import { createHmac, timingSafeEqual } from 'node:crypto';

/** What a signer needs to know about a firmware package to make a URL for it. */
export interface DownloadTarget {
  id: string;
  fileName: string;
  /** The blob store key; only signers for an external file server that serves blobs by key need it. */
  blobKey?: string;
}

/**
 * Makes the time-limited URL a device downloads a firmware package from. The built-in implementation
 * points at Aloft's own download route; others point at an external file server (nginx `secure_link`,
 * an object store's presigned URLs) without the rest of the server knowing.
 */
export interface DownloadUrlSigner {
  urlFor(firmware: DownloadTarget, now: Date): string;
}

/** Default lifetime of a download URL: long enough to start a slow download, short enough to leak little. */
export const DEFAULT_DOWNLOAD_URL_LIFETIME_SECONDS = 30 * 60;

export interface SignDownloadUrlInput {
  /** Origin (and optional path prefix) the download route is reachable at, e.g. `https://ota.example.com`. */
  baseUrl: string;
  firmwareId: string;
  fileName: string;
  expiresAt: Date;
  secret: string;
}

/** `${baseUrl}/download/<id>/<file name>?expires=<unix seconds>&sig=<hex HMAC-SHA256>`. */
export function signDownloadUrl(input: SignDownloadUrlInput): string {
  const expires = Math.floor(input.expiresAt.getTime() / 1000);
  const sig = downloadSignature(input.secret, input.firmwareId, input.fileName, expires);
  const base = input.baseUrl.replace(/\/+$/, '');
  return `${base}/download/${encodeURIComponent(input.firmwareId)}/${encodeURIComponent(input.fileName)}?expires=${expires}&sig=${sig}`;
}

/**
 * Hex HMAC-SHA256 binding the firmware id, the file name and the expiry. The message is a JSON array so
 * that no choice of id and file name can collide with another (`"a\nb" + "c"` vs `"a" + "b\nc"`).
 */
export function downloadSignature(
  secret: string,
  firmwareId: string,
  fileName: string,
  expires: number,
): string {
  if (secret.length === 0) throw new TypeError('The download URL secret must not be empty');
  const message = JSON.stringify(['aloft-download/1', firmwareId, fileName, expires]);
  return createHmac('sha256', secret).update(message).digest('hex');
}

export type DownloadSignatureCheck = 'ok' | 'expired' | 'bad_signature';

export interface VerifyDownloadSignatureInput {
  firmwareId: string;
  fileName: string;
  /** The raw `expires` query parameter (absent or repeated parameters are passed as `undefined`). */
  expires: string | undefined;
  /** The raw `sig` query parameter. */
  sig: string | undefined;
  /**
   * The secret, or several during a rotation: the first signs new URLs, the others still verify URLs
   * handed out before the switch.
   */
  secret: string | readonly string[];
  now: Date;
}

const EXPIRES_PATTERN = /^\d{1,15}$/;
const SIG_PATTERN = /^[0-9a-f]{64}$/;

/**
 * Checks a download URL. The signature is checked first (in constant time), so an attacker who edits
 * `expires` learns only `bad_signature`. A URL is valid strictly before its `expires` second.
 */
export function verifyDownloadSignature(input: VerifyDownloadSignatureInput): DownloadSignatureCheck {
  const { expires, sig } = input;
  if (expires === undefined || sig === undefined) return 'bad_signature';
  if (!EXPIRES_PATTERN.test(expires) || !SIG_PATTERN.test(sig)) return 'bad_signature';
  const expiresSeconds = Number(expires);
  const given = Buffer.from(sig, 'hex');
  const secrets = typeof input.secret === 'string' ? [input.secret] : input.secret;
  let matched = false;
  for (const secret of secrets) {
    const wanted = Buffer.from(
      downloadSignature(secret, input.firmwareId, input.fileName, expiresSeconds),
      'hex',
    );
    // No early exit: every secret is tried, so timing does not reveal which one matched.
    if (timingSafeEqual(given, wanted)) matched = true;
  }
  if (!matched) return 'bad_signature';
  return input.now.getTime() >= expiresSeconds * 1000 ? 'expired' : 'ok';
}

export interface HmacDownloadUrlSignerOptions {
  baseUrl: string;
  secret: string;
  /** Default {@link DEFAULT_DOWNLOAD_URL_LIFETIME_SECONDS}. */
  lifetimeSeconds?: number;
}

/** The built-in signer: URLs for Aloft's own `/download` route, verified by `verifyDownloadSignature`. */
export function createHmacDownloadUrlSigner(options: HmacDownloadUrlSignerOptions): DownloadUrlSigner {
  const lifetimeMs = (options.lifetimeSeconds ?? DEFAULT_DOWNLOAD_URL_LIFETIME_SECONDS) * 1000;
  if (options.secret.length === 0) throw new TypeError('The download URL secret must not be empty');
  return {
    urlFor(firmware, now) {
      return signDownloadUrl({
        baseUrl: options.baseUrl,
        firmwareId: firmware.id,
        fileName: firmware.fileName,
        expiresAt: new Date(now.getTime() + lifetimeMs),
        secret: options.secret,
      });
    },
  };
}
