import { TEST_ADMIN_TOKEN, type TestServer } from '../src/testing/test-server.js';

export interface UploadFields {
  version: string;
  module?: string;
  sourceVersions?: string;
  md5?: string;
  sha256?: string;
}

/** Uploads a package through the management API as multipart form data (fields first, file last). */
export async function uploadFirmware(
  t: TestServer,
  productKey: string,
  fields: UploadFields,
  bytes: Uint8Array,
  fileName = 'fw.bin',
): Promise<{ status: number; body: Record<string, unknown> }> {
  const form = new FormData();
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) form.append(key, value);
  form.append('file', new Blob([bytes]), fileName);
  const response = await fetch(`${t.server.httpUrl}/api/v1/products/${productKey}/firmware`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
    body: form,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}
