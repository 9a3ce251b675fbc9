import { createHash, sign } from 'node:crypto';
import { Readable } from 'node:stream';
import { DEFAULT_MODULE } from '@aloft/protocol';
import type { BlobStore } from '../blobs/blob-store.js';
import { AloftError, aloftError } from '../errors.js';
import type { Clock } from './clock.js';
import type { DownloadUrls } from './ports/download-urls.js';
import type {
  Firmware,
  FirmwareFilter,
  FirmwareRepository,
  FirmwareUsage,
} from './ports/firmware-repository.js';
import type { ProductRepository } from './ports/product-repository.js';

export interface FirmwareMetadata {
  productKey: string;
  module?: string;
  version: string;
  description?: string;
  sourceVersions?: string[];
}

export interface UploadFirmwareInput extends FirmwareMetadata {
  fileName: string;
  /** Declared by the uploader; a mismatch rejects the upload and keeps nothing. */
  expectedMd5?: string;
  expectedSha256?: string;
}

export interface ExternalFirmwareInput extends FirmwareMetadata {
  url: string;
  size: number;
  md5?: string;
  sha256?: string;
  /** Download the file once now and check its size and digests. */
  check?: boolean;
}

const VERSION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._+~-]{0,63}$/;
const MODULE_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
const HEX = { md5: /^[0-9a-f]{32}$/, sha256: /^[0-9a-f]{64}$/ };

/**
 * Signs a package: base64 ed25519 signature over the UTF-8 bytes of its lowercase hex sha256.
 * The device SDK verifies exactly this before installing (docs/firmware-signing.md).
 */
export function signDigest(sha256Hex: string, privateKeyPem: string): string {
  return sign(null, Buffer.from(sha256Hex.toLowerCase(), 'utf8'), privateKeyPem).toString('base64');
}

/** Firmware packages: uploads (streamed, hashed, optionally signed), externally hosted packages, deletion. */
export class FirmwareService {
  constructor(
    private readonly firmware: FirmwareRepository,
    private readonly products: ProductRepository,
    private readonly blobs: BlobStore,
    private readonly usage: FirmwareUsage,
    private readonly clock: Clock,
    private readonly maxUploadBytes: number,
    private readonly urls: DownloadUrls,
  ) {}

  /** The URL a device would get in a task now: signed and expiring (or the external URL unchanged). */
  async downloadUrl(id: number): Promise<{ url: string }> {
    const firmware = await this.get(id);
    return { url: firmware.externalUrl ?? this.urls.urlFor(firmware, this.clock()) };
  }

  /** Checks what can be checked before the bytes arrive, so a 2 GiB upload is not streamed only to be refused. */
  async precheck(input: FirmwareMetadata): Promise<void> {
    await this.requireProduct(input.productKey);
    validateMetadata(input);
    const module = input.module ?? DEFAULT_MODULE;
    if (await this.firmware.find(input.productKey, module, input.version)) {
      throw aloftError('FIRMWARE_EXISTS', input.version);
    }
  }

  async upload(input: UploadFirmwareInput, source: Readable): Promise<Firmware> {
    await this.precheck(input);
    const expectedMd5 = input.expectedMd5?.toLowerCase();
    const expectedSha256 = input.expectedSha256?.toLowerCase();
    if (expectedMd5 !== undefined && !HEX.md5.test(expectedMd5)) invalid('md5 must be 32 hex digits');
    if (expectedSha256 !== undefined && !HEX.sha256.test(expectedSha256))
      invalid('sha256 must be 64 hex digits');
    if (!isSafeFileName(input.fileName)) invalid('file name must be 1-200 characters without slashes');

    const blob = await this.blobs.put(source, {
      ...(expectedMd5 ? { md5: expectedMd5 } : {}),
      ...(expectedSha256 ? { sha256: expectedSha256 } : {}),
      maxBytes: this.maxUploadBytes,
    });
    try {
      return await this.firmware.create(
        {
          ...this.record(input),
          fileName: input.fileName,
          size: blob.size,
          md5: blob.md5,
          sha256: blob.sha256,
          blobKey: blob.key,
          externalUrl: null,
          signature: await this.signatureFor(input.productKey, blob.sha256),
        },
        this.clock(),
      );
    } catch (error) {
      // Lost a race with an identical upload, or the database failed: keep no orphan file.
      await this.blobs.delete(blob.key);
      throw error;
    }
  }

  async registerExternal(input: ExternalFirmwareInput): Promise<Firmware> {
    await this.precheck(input);
    const md5 = input.md5?.toLowerCase();
    const sha256 = input.sha256?.toLowerCase();
    if (!md5 && !sha256) invalid('an externally hosted package needs md5 and/or sha256');
    if (md5 !== undefined && !HEX.md5.test(md5)) invalid('md5 must be 32 hex digits');
    if (sha256 !== undefined && !HEX.sha256.test(sha256)) invalid('sha256 must be 64 hex digits');
    let url: URL;
    try {
      url = new URL(input.url);
    } catch {
      return invalid(`"${input.url}" is not a URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') invalid('the package URL must be http(s)');
    if (input.check) await checkRemote(url, input.size, md5, sha256);
    return this.firmware.create(
      {
        ...this.record(input),
        fileName: decodeURIComponent(url.pathname.split('/').pop() || 'firmware.bin'),
        size: input.size,
        md5: md5 ?? null,
        sha256: sha256 ?? null,
        blobKey: null,
        externalUrl: url.toString(),
        signature: sha256 ? await this.signatureFor(input.productKey, sha256) : null,
      },
      this.clock(),
    );
  }

  list(filter: FirmwareFilter): Promise<{ items: Firmware[]; total: number }> {
    return this.firmware.list(filter);
  }

  async get(id: number): Promise<Firmware> {
    const firmware = await this.firmware.get(id);
    if (!firmware) throw aloftError('FIRMWARE_NOT_FOUND', id);
    return firmware;
  }

  /** The package's bytes, for operators (uploaded packages only). */
  async open(id: number): Promise<{ firmware: Firmware; stream: Readable }> {
    const firmware = await this.get(id);
    if (!firmware.blobKey)
      throw new AloftError('VALIDATION', [`Firmware ${id} is hosted at ${firmware.externalUrl}`]);
    return { firmware, stream: this.blobs.openRead(firmware.blobKey) };
  }

  /** Refused while an unfinished job uses the package; otherwise removes the record and the file. */
  async delete(id: number): Promise<void> {
    const firmware = await this.get(id);
    const jobs = await this.usage.unfinishedJobsUsing(id);
    if (jobs.length) throw aloftError('FIRMWARE_IN_USE', id, jobs.join(', '));
    await this.firmware.delete(id);
    if (firmware.blobKey) await this.blobs.delete(firmware.blobKey);
  }

  private record(input: FirmwareMetadata) {
    return {
      productKey: input.productKey,
      module: input.module ?? DEFAULT_MODULE,
      version: input.version,
      description: input.description ?? '',
      sourceVersions: [...new Set(input.sourceVersions ?? [])],
    };
  }

  private async signatureFor(productKey: string, sha256: string): Promise<string | null> {
    const privateKey = await this.products.signingPrivateKey(productKey);
    return privateKey ? signDigest(sha256, privateKey) : null;
  }

  private async requireProduct(productKey: string): Promise<void> {
    if (!(await this.products.get(productKey))) throw aloftError('PRODUCT_NOT_FOUND', productKey);
  }
}

/** 1-200 characters, no path separators, no control characters (file names end up in download URLs and headers). */
function isSafeFileName(name: string): boolean {
  return (
    name.length > 0 &&
    name.length <= 200 &&
    ![...name].some((c) => c === '/' || c === '\\' || c.charCodeAt(0) < 0x20)
  );
}

function invalid(message: string): never {
  throw new AloftError('FIRMWARE_UPLOAD_INVALID', [message]);
}

function validateMetadata(input: FirmwareMetadata): void {
  if (!VERSION_PATTERN.test(input.version)) {
    invalid(
      `version "${input.version}" must be 1-64 of A-Z a-z 0-9 . _ + ~ - starting with a letter or digit`,
    );
  }
  if (input.module !== undefined && !MODULE_PATTERN.test(input.module)) {
    invalid(`module "${input.module}" must be 1-64 of A-Z a-z 0-9 _ . -`);
  }
  for (const v of input.sourceVersions ?? []) {
    if (!VERSION_PATTERN.test(v)) invalid(`source version "${v}" is not a valid version`);
  }
  if ((input.description ?? '').length > 2000) invalid('description is longer than 2000 characters');
}

/** Downloads an external package once, hashing as it streams, and compares size and digests. */
async function checkRemote(url: URL, size: number, md5?: string, sha256?: string): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url, { headers: { 'accept-encoding': 'identity' } });
  } catch (error) {
    return invalid(`could not fetch ${url}: ${(error as Error).message}`);
  }
  if (!response.ok || !response.body) invalid(`fetching ${url} answered HTTP ${response.status}`);
  const hashes = { md5: createHash('md5'), sha256: createHash('sha256') };
  let bytes = 0;
  for await (const chunk of Readable.fromWeb(response.body as never) as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    hashes.md5.update(chunk);
    hashes.sha256.update(chunk);
  }
  if (bytes !== size) invalid(`${url} is ${bytes} bytes, not ${size}`);
  if (md5 && hashes.md5.digest('hex') !== md5) invalid(`${url} does not match the given md5`);
  if (sha256 && hashes.sha256.digest('hex') !== sha256) invalid(`${url} does not match the given sha256`);
}
