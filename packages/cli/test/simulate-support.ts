import { createHash, randomBytes } from 'node:crypto';
import type { Dialect } from '@aloft/protocol';
import { expect } from 'vitest';
import { eventually, TEST_ADMIN_TOKEN, type TestServer } from '../../server/src/testing/test-server.js';
import type { UpgradeRow } from '../src/api/index.js';

/** Uploads a package through the management API as multipart form data (fields first, file last). */
export async function uploadFirmware(
  t: TestServer,
  productKey: string,
  fields: { version: string; module?: string },
  bytes: Uint8Array,
): Promise<{ id: number }> {
  const form = new FormData();
  form.append('version', fields.version);
  if (fields.module !== undefined) form.append('module', fields.module);
  form.append('file', new Blob([bytes]), `firmware-${fields.version}.bin`);
  const response = await fetch(`${t.server.httpUrl}/api/v1/products/${productKey}/firmware`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
    body: form,
  });
  const body = (await response.json()) as { id: number; sha256: string };
  expect(response.status, JSON.stringify(body)).toBe(201);
  expect(body.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
  return body;
}

/** Uploads a random package and starts a batch job to every device of the product. */
export async function rollOut(
  t: TestServer,
  productKey: string,
  { size = 64 * 1024, version = '2.0.0' }: { size?: number; version?: string } = {},
): Promise<{ jobId: number; firmwareId: number }> {
  const firmware = await uploadFirmware(t, productKey, { version }, randomBytes(size));
  const job = await t.api<{ id: number }>('POST', '/api/v1/jobs/batch', {
    firmwareId: firmware.id,
    allowUnverified: true,
  });
  expect(job.status, JSON.stringify(job.body)).toBe(201);
  return { jobId: job.body.id, firmwareId: firmware.id };
}

/** The devices of a job on one console tab. */
export async function jobDevices(t: TestServer, jobId: number, tab: string): Promise<UpgradeRow[]> {
  const r = await t.api<{ items: UpgradeRow[] }>(
    'GET',
    `/api/v1/jobs/${jobId}/devices?tab=${tab}&limit=1000`,
  );
  expect(r.status).toBe(200);
  return r.body.items;
}

/** Waits until the server counts `count` devices of the product online (the engine only notifies those). */
export async function waitOnline(t: TestServer, productKey: string, count: number): Promise<void> {
  await eventually(async () => {
    const r = await t.api<{ total: number }>(
      'GET',
      `/api/v1/products/${productKey}/devices?online=true&limit=1`,
    );
    return r.body.total === count;
  }, `${count} devices of ${productKey} online`);
}

/** A product key each dialect accepts (Tencent product ids are exactly 10 characters). */
export function productKeyFor(dialect: Dialect, unique: () => string): string {
  return dialect === 'tencent' ? unique() : `${dialect}-${unique()}`;
}
