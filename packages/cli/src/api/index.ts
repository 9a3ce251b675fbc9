import { AloftApi } from './aloft-api.js';
import { HttpClient } from './http-client.js';

export type { AloftApi, FirmwareDownload, UploadFile } from './aloft-api.js';
export { ApiError, ConnectionError } from './api-error.js';
export type * from './types.js';

/** Where the management API is and how to authenticate to it. */
export interface ApiConnection {
  baseUrl: string;
  token: string;
  fetch?: typeof fetch;
}

/** The one place the CLI gets its API client: swap the implementation here for the generated one. */
export function connectApi(connection: ApiConnection): AloftApi {
  return new AloftApi(new HttpClient(connection));
}
