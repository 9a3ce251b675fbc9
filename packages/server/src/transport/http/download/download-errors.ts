import { catalogue } from '../../../errors.js';

/** The errors the download route answers with, as `{ code, message }` JSON: a view of the shared catalogue. */
export const DOWNLOAD_ERRORS = Object.fromEntries(
  [
    catalogue.DOWNLOAD_BAD_SIGNATURE,
    catalogue.DOWNLOAD_URL_EXPIRED,
    catalogue.DOWNLOAD_NOT_FOUND,
    catalogue.DOWNLOAD_RANGE_NOT_SATISFIABLE,
    catalogue.DOWNLOAD_FAILED,
  ].map((entry) => [entry.code, { status: entry.status, message: entry.template }]),
) as Record<
  | 'ALOFT_DOWNLOAD_BAD_SIGNATURE'
  | 'ALOFT_DOWNLOAD_URL_EXPIRED'
  | 'ALOFT_DOWNLOAD_NOT_FOUND'
  | 'ALOFT_DOWNLOAD_RANGE_NOT_SATISFIABLE'
  | 'ALOFT_DOWNLOAD_FAILED',
  { status: number; message: string }
>;

export type DownloadErrorCode = keyof typeof DOWNLOAD_ERRORS;

/** The JSON body of a download error response. */
export interface DownloadErrorBody {
  code: DownloadErrorCode;
  message: string;
}

export function downloadErrorBody(code: DownloadErrorCode): DownloadErrorBody {
  return { code, message: DOWNLOAD_ERRORS[code].message };
}
