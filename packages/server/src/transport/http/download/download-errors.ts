/**
 * The errors the download route answers with, as `{ code, message }` JSON. Stable codes; they fold into
 * the shared error catalogue once it exists. Kept apart from the route so tests and docs can list them.
 */
export const DOWNLOAD_ERRORS = {
  ALOFT_DOWNLOAD_BAD_SIGNATURE: { status: 403, message: 'The download URL is not valid' },
  ALOFT_DOWNLOAD_URL_EXPIRED: {
    status: 403,
    message: 'The download URL has expired; request the upgrade task again for a fresh one',
  },
  ALOFT_FIRMWARE_NOT_FOUND: { status: 404, message: 'The firmware package no longer exists' },
  ALOFT_DOWNLOAD_RANGE_NOT_SATISFIABLE: {
    status: 416,
    message: 'The requested range starts past the end of the firmware package',
  },
  ALOFT_DOWNLOAD_FAILED: { status: 500, message: 'The firmware package could not be read' },
} as const satisfies Record<string, { status: number; message: string }>;

export type DownloadErrorCode = keyof typeof DOWNLOAD_ERRORS;

/** The JSON body of a download error response. */
export interface DownloadErrorBody {
  code: DownloadErrorCode;
  message: string;
}

export function downloadErrorBody(code: DownloadErrorCode): DownloadErrorBody {
  return { code, message: DOWNLOAD_ERRORS[code].message };
}
