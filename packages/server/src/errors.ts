import type { UpgradeErrorCode } from '@aloft/protocol';

/** One entry of the error catalogue: a stable code, an HTTP status and a message template (`%s` placeholders). */
export interface ErrorDefinition {
  code: `ALOFT_${string}`;
  status: number;
  template: string;
  /** Where the error can reach a device: the normalized code it is reported as. */
  deviceCode?: UpgradeErrorCode;
}

/**
 * The error catalogue (after Fastify's `lib/errors.js`): every error Aloft returns to a caller is defined here once,
 * with its code, HTTP status and message. docs/errors.md lists the same entries; a test pins the two together.
 */
export const catalogue = {
  VALIDATION: { code: 'ALOFT_VALIDATION', status: 400, template: '%s' },
  UNAUTHORIZED: { code: 'ALOFT_UNAUTHORIZED', status: 401, template: 'Missing or invalid bearer token' },
  NOT_FOUND: { code: 'ALOFT_NOT_FOUND', status: 404, template: 'Route %s not found' },
  PAYLOAD_TOO_LARGE: { code: 'ALOFT_PAYLOAD_TOO_LARGE', status: 413, template: '%s' },
  PRODUCT_NOT_FOUND: { code: 'ALOFT_PRODUCT_NOT_FOUND', status: 404, template: 'Product %s not found' },
  PRODUCT_EXISTS: { code: 'ALOFT_PRODUCT_EXISTS', status: 409, template: 'Product %s already exists' },
  DEVICE_NOT_FOUND: { code: 'ALOFT_DEVICE_NOT_FOUND', status: 404, template: 'Device %s not found' },
  DEVICE_EXISTS: { code: 'ALOFT_DEVICE_EXISTS', status: 409, template: 'Device %s already exists' },
  DEVICE_IMPORT_INVALID: {
    code: 'ALOFT_DEVICE_IMPORT_INVALID',
    status: 400,
    template: 'Device import rejected: %s',
  },
  FIRMWARE_NOT_FOUND: { code: 'ALOFT_FIRMWARE_NOT_FOUND', status: 404, template: 'Firmware %s not found' },
  FIRMWARE_EXISTS: {
    code: 'ALOFT_FIRMWARE_EXISTS',
    status: 409,
    template: 'Firmware %s already exists for this product and module',
  },
  FIRMWARE_DIGEST_MISMATCH: {
    code: 'ALOFT_FIRMWARE_DIGEST_MISMATCH',
    status: 422,
    template: 'Uploaded file does not match the expected %s',
  },
  FIRMWARE_TOO_LARGE: {
    code: 'ALOFT_FIRMWARE_TOO_LARGE',
    status: 413,
    template: 'Firmware is larger than %s bytes',
  },
  FIRMWARE_IN_USE: {
    code: 'ALOFT_FIRMWARE_IN_USE',
    status: 409,
    template: 'Firmware %s is used by unfinished job(s) %s',
  },
  FIRMWARE_UPLOAD_INVALID: { code: 'ALOFT_FIRMWARE_UPLOAD_INVALID', status: 400, template: '%s' },
  FIRMWARE_UNVERIFIED: {
    code: 'ALOFT_FIRMWARE_UNVERIFIED',
    status: 409,
    template: 'Firmware %s is not verified; run a verify job first or set allowUnverified',
  },
  FIRMWARE_UPLOAD_INCOMPLETE: {
    code: 'ALOFT_FIRMWARE_UPLOAD_INCOMPLETE',
    status: 400,
    template: 'Firmware upload did not complete: %s',
  },
  BLOB_NOT_FOUND: { code: 'ALOFT_BLOB_NOT_FOUND', status: 404, template: 'The stored file %s is missing' },
  BLOB_KEY_INVALID: { code: 'ALOFT_BLOB_KEY_INVALID', status: 400, template: 'Invalid blob key %s' },
  BLOB_RANGE_INVALID: { code: 'ALOFT_BLOB_RANGE_INVALID', status: 416, template: 'Invalid byte range %s' },
  DOWNLOAD_URL_EXPIRED: {
    code: 'ALOFT_DOWNLOAD_URL_EXPIRED',
    status: 403,
    template: 'The download URL has expired; request the upgrade task again for a fresh one',
    deviceCode: 'url_expired',
  },
  DOWNLOAD_BAD_SIGNATURE: {
    code: 'ALOFT_DOWNLOAD_BAD_SIGNATURE',
    status: 403,
    template: 'The download URL is not valid',
    deviceCode: 'url_expired',
  },
  DOWNLOAD_NOT_FOUND: {
    code: 'ALOFT_DOWNLOAD_NOT_FOUND',
    status: 404,
    template: 'The firmware package no longer exists',
    deviceCode: 'not_found',
  },
  DOWNLOAD_RANGE_NOT_SATISFIABLE: {
    code: 'ALOFT_DOWNLOAD_RANGE_NOT_SATISFIABLE',
    status: 416,
    template: 'The requested range starts past the end of the firmware package',
  },
  DOWNLOAD_FAILED: {
    code: 'ALOFT_DOWNLOAD_FAILED',
    status: 500,
    template: 'The firmware package could not be read',
    deviceCode: 'download_failed',
  },
  JOB_NOT_FOUND: { code: 'ALOFT_JOB_NOT_FOUND', status: 404, template: 'Job %s not found' },
  JOB_INVALID: { code: 'ALOFT_JOB_INVALID', status: 400, template: '%s' },
  JOB_TRANSITION: { code: 'ALOFT_JOB_TRANSITION', status: 409, template: 'Job %s cannot %s while %s' },
  UPGRADE_CONFLICT: {
    code: 'ALOFT_UPGRADE_CONFLICT',
    status: 409,
    template: 'Device %s already has an active upgrade of module %s',
  },
  UPGRADE_NOT_FOUND: { code: 'ALOFT_UPGRADE_NOT_FOUND', status: 404, template: 'Upgrade %s not found' },
  WEBHOOK_NOT_FOUND: { code: 'ALOFT_WEBHOOK_NOT_FOUND', status: 404, template: 'Webhook %s not found' },
  INTERNAL: { code: 'ALOFT_INTERNAL', status: 500, template: 'Internal error' },
} as const satisfies Record<string, ErrorDefinition>;

export type ErrorName = keyof typeof catalogue;

/** An error from the catalogue. Thrown by use cases; mapped to a response in one place. */
export class AloftError extends Error {
  readonly code: string;
  readonly status: number;
  readonly deviceCode: UpgradeErrorCode | undefined;
  readonly details: unknown;

  constructor(name: ErrorName, args: readonly (string | number)[] = [], details?: unknown) {
    const def: ErrorDefinition = catalogue[name];
    let i = 0;
    super(def.template.replace(/%s/g, () => String(args[i++] ?? '')));
    this.name = 'AloftError';
    this.code = def.code;
    this.status = def.status;
    this.deviceCode = def.deviceCode;
    this.details = details;
  }
}

/** Shorthand for `new AloftError(...)`, so use cases read `throw aloftError('DEVICE_NOT_FOUND', name)`. */
export function aloftError(name: ErrorName, ...args: (string | number)[]): AloftError {
  return new AloftError(name, args);
}
