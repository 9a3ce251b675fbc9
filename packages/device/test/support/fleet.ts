import { randomBytes } from 'node:crypto';
import type { Dialect } from '@aloft/protocol';
import { expect } from 'vitest';
import { eventually, TEST_ADMIN_TOKEN, type TestServer } from '../../../server/src/testing/test-server.js';

/** One product with one registered device, as an operator sets them up through the REST API. */
export interface FleetDevice {
  dialect: Dialect;
  productKey: string;
  deviceName: string;
  secret: string;
  /** PEM, when the product signs its packages. */
  signingPublicKey: string | null;
}

export interface UpgradeView {
  state: string;
  errorCode: string | null;
  errorMessage: string | null;
  targetVersion: string;
}

/**
 * Product keys are random: with an external broker every test server on the machine hears every device, so
 * names must not collide with other suites'. Tencent product ids are exactly 10 alphanumerics.
 */
function productKeyFor(dialect: Dialect): string {
  const letters = [...randomBytes(10)].map((b) => String.fromCharCode(65 + (b % 26))).join('');
  return dialect === 'tencent' ? letters : `${dialect}-${letters.slice(0, 8)}`;
}

export async function createFleetDevice(
  t: TestServer,
  dialect: Dialect,
  options: { signing?: boolean } = {},
): Promise<FleetDevice> {
  const productKey = productKeyFor(dialect);
  const product = await t.api<{ signingPublicKey: string | null }>('POST', '/api/v1/products', {
    key: productKey,
    name: `${dialect} test product`,
    dialect,
    signing: options.signing ?? false,
  });
  expect(product.status).toBe(201);
  const deviceName = `dev-${randomBytes(3).toString('hex')}`;
  const device = await t.api<{ secret: string }>('POST', `/api/v1/products/${productKey}/devices`, {
    name: deviceName,
  });
  expect(device.status).toBe(201);
  return {
    dialect,
    productKey,
    deviceName,
    secret: device.body.secret,
    signingPublicKey: product.body.signingPublicKey,
  };
}

/** Uploads a package the way the console does: multipart, text fields first, the `file` part last. */
export async function uploadFirmware(
  t: TestServer,
  productKey: string,
  fields: { version: string; module?: string },
  bytes: Uint8Array,
): Promise<{ id: number; md5: string; sha256: string }> {
  const form = new FormData();
  form.append('version', fields.version);
  if (fields.module !== undefined) form.append('module', fields.module);
  form.append('file', new Blob([bytes]), `firmware-${fields.version}.bin`);
  const response = await fetch(`${t.server.httpUrl}/api/v1/products/${productKey}/firmware`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
    body: form,
  });
  const body = (await response.json()) as { id: number; md5: string; sha256: string };
  expect(response.status, JSON.stringify(body)).toBe(201);
  return body;
}

export async function startSingleJob(t: TestServer, firmwareId: number, deviceName: string): Promise<number> {
  const job = await t.api<{ id: number }>('POST', '/api/v1/jobs/single', { firmwareId, deviceName });
  expect(job.status, JSON.stringify(job.body)).toBe(201);
  return job.body.id;
}

/** The rollout engine only dispatches to devices it knows are online. */
export async function waitOnline(t: TestServer, d: FleetDevice): Promise<void> {
  await eventually(async () => {
    const r = await t.api<{ online: boolean }>(
      'GET',
      `/api/v1/products/${d.productKey}/devices/${d.deviceName}`,
    );
    return r.body.online;
  }, `${d.deviceName} online`);
}

export async function upgradeOf(t: TestServer, d: FleetDevice, module: string): Promise<UpgradeView | null> {
  const r = await t.api<{ upgrade: UpgradeView | null }>(
    'GET',
    `/api/v1/products/${d.productKey}/devices/${d.deviceName}/upgrade?module=${encodeURIComponent(module)}`,
  );
  return r.body.upgrade;
}

/** Waits for the device's upgrade of `module` to reach `state`, failing early on another terminal state. */
export async function upgradeEnds(
  t: TestServer,
  d: FleetDevice,
  module: string,
  state: 'succeeded' | 'failed',
  timeoutMs = 15_000,
): Promise<UpgradeView> {
  return eventually(
    async () => {
      const upgrade = await upgradeOf(t, d, module);
      if (upgrade && ['succeeded', 'failed', 'timed_out', 'cancelled'].includes(upgrade.state)) {
        expect(upgrade.state, JSON.stringify(upgrade)).toBe(state);
        return upgrade;
      }
      return undefined;
    },
    `upgrade of ${d.deviceName}/${module} to end ${state}`,
    timeoutMs,
  );
}

export async function jobCounts(t: TestServer, jobId: number): Promise<Record<string, number>> {
  const r = await t.api<{ counts: Record<string, number> }>('GET', `/api/v1/jobs/${jobId}`);
  return r.body.counts;
}
