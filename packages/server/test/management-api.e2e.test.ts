import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  eventually,
  startTestServer,
  type TestServer,
  uniqueProductKey,
} from '../src/testing/test-server.js';
import { connectDevice } from './device-connect.js';

interface Page<T> {
  items: T[];
  total: number;
}
interface Device {
  name: string;
  tags: string[];
  online: boolean;
  versions: Record<string, string>;
  secret?: string;
}

describe('management API', () => {
  let t: TestServer;
  const pk = uniqueProductKey(8);

  beforeAll(async () => {
    t = await startTestServer();
    await t.api('POST', '/api/v1/products', { key: pk, name: 'Gateway', dialect: 'iothub' });
  });
  afterAll(() => t?.close());

  it('requires a valid bearer token', async () => {
    const none = await fetch(`${t.server.httpUrl}/api/v1/products`);
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ code: 'ALOFT_UNAUTHORIZED' });
    const wrong = await fetch(`${t.server.httpUrl}/api/v1/products`, {
      headers: { authorization: 'Bearer nope' },
    });
    expect(wrong.status).toBe(401);
  });

  it('issues new API tokens that work, shown once', async () => {
    const created = await t.api<{ token: string }>('POST', '/api/v1/tokens', { name: 'ci' });
    expect(created.status).toBe(201);
    const response = await fetch(`${t.server.httpUrl}/api/v1/products`, {
      headers: { authorization: `Bearer ${created.body.token}` },
    });
    expect(response.status).toBe(200);
  });

  it('validates input with clear messages and changes nothing', async () => {
    const badKey = await t.api<{ code: string; message: string }>('POST', '/api/v1/products', {
      key: 'has/slash',
      name: 'x',
      dialect: 'aliyun',
    });
    expect(badKey.status).toBe(400);
    expect(badKey.body.code).toBe('ALOFT_VALIDATION');
    const badDialect = await t.api('POST', '/api/v1/products', { key: 'ok', name: 'x', dialect: 'aws' });
    expect(badDialect.status).toBe(400);
    const malformed = await fetch(`${t.server.httpUrl}/api/v1/products`, {
      method: 'POST',
      headers: { authorization: 'Bearer test-admin-token-0123456789', 'content-type': 'application/json' },
      body: '{"key":',
    });
    expect(malformed.status).toBe(400);
    const dup = await t.api('POST', '/api/v1/products', { key: pk, name: 'again', dialect: 'aliyun' });
    expect(dup.status).toBe(409);
    const products = await t.api<{ key: string }[]>('GET', '/api/v1/products');
    expect(products.body.filter((p) => p.key === pk || p.key === 'ok')).toHaveLength(1);
    expect((await t.api('GET', '/api/v1/products/none')).status).toBe(404);
    expect((await t.api('GET', '/api/v1/nothing-here')).status).toBe(404);
  });

  it('registers a device with a generated secret shown once', async () => {
    const created = await t.api<Device>('POST', `/api/v1/products/${pk}/devices`, {
      name: 'gw-1',
      tags: ['eu'],
    });
    expect(created.status).toBe(201);
    expect(created.body.secret).toMatch(/^[A-Za-z0-9+/=]{20,}$/);
    const detail = await t.api<Device>('GET', `/api/v1/products/${pk}/devices/gw-1`);
    expect(detail.body).not.toHaveProperty('secret');
    expect((await t.api('POST', `/api/v1/products/${pk}/devices`, { name: 'gw-1' })).status).toBe(409);
    expect((await t.api('POST', `/api/v1/products/${pk}/devices`, { name: 'bad name' })).status).toBe(400);
    expect((await t.api('POST', '/api/v1/products/none/devices', { name: 'x' })).status).toBe(404);
  });

  it('imports devices from CSV all or nothing, then filters and paginates them', async () => {
    const rows = Array.from(
      { length: 25 },
      (_, i) => `csv-${String(i).padStart(2, '0')},,${i % 5 === 0 ? 'beta;eu' : 'eu'}`,
    );
    const imported = await t.api<{ created: number }>(
      'POST',
      `/api/v1/products/${pk}/devices/import`,
      `name,secret,tags\n${rows.join('\n')}\n`,
    );
    expect(imported.status).toBe(201);
    expect(imported.body.created).toBe(25);

    const clash = await t.api<{ code: string }>(
      'POST',
      `/api/v1/products/${pk}/devices/import`,
      'name\nnew-one\ncsv-03\n',
    );
    expect(clash.status).toBe(409);
    expect((await t.api('GET', `/api/v1/products/${pk}/devices/new-one`)).status).toBe(404);
    const badCsv = await t.api<{ code: string }>(
      'POST',
      `/api/v1/products/${pk}/devices/import`,
      'id,x\n1,2\n',
    );
    expect(badCsv.status).toBe(400);
    expect(badCsv.body.code).toBe('ALOFT_DEVICE_IMPORT_INVALID');

    const beta = await t.api<Page<Device>>('GET', `/api/v1/products/${pk}/devices?tag=beta`);
    expect(beta.body.total).toBe(5);
    const page2 = await t.api<Page<Device>>(
      'GET',
      `/api/v1/products/${pk}/devices?search=csv-&limit=10&offset=10`,
    );
    expect(page2.body.total).toBe(25);
    expect(page2.body.items.map((d) => d.name)).toEqual(
      Array.from({ length: 10 }, (_, i) => `csv-${10 + i}`),
    );
    expect((await t.api('GET', `/api/v1/products/${pk}/devices?limit=5000`)).status).toBe(400);
  });

  it('replaces tags and deletes devices', async () => {
    const tagged = await t.api<Device>('PUT', `/api/v1/products/${pk}/devices/csv-01/tags`, {
      tags: ['canary'],
    });
    expect(tagged.body.tags).toEqual(['canary']);
    expect(
      (await t.api('PUT', `/api/v1/products/${pk}/devices/csv-01/tags`, { tags: ['no spaces'] })).status,
    ).toBe(400);
    expect((await t.api('DELETE', `/api/v1/products/${pk}/devices/csv-24`)).status).toBe(204);
    expect((await t.api('DELETE', `/api/v1/products/${pk}/devices/csv-24`)).status).toBe(404);
  });

  it('tracks online state from connects and disconnects, and filters on it', async () => {
    const { body } = await t.api<Device>('POST', `/api/v1/products/${pk}/devices`, { name: 'live-1' });
    const client = await connectDevice(
      t.mqttUrl,
      'plain',
      { productKey: pk, deviceName: 'live-1' },
      body.secret!,
    );
    await eventually(
      async () => (await t.api<Device>('GET', `/api/v1/products/${pk}/devices/live-1`)).body.online,
      'online',
    );
    const online = await t.api<Page<Device>>('GET', `/api/v1/products/${pk}/devices?online=true`);
    expect(online.body.items.map((d) => d.name)).toEqual(['live-1']);
    await client.endAsync();
    await eventually(
      async () => !(await t.api<Device>('GET', `/api/v1/products/${pk}/devices/live-1`)).body.online,
      'offline after disconnect',
    );
  });

  it('serves health, readiness, metrics and the OpenAPI document', async () => {
    expect((await fetch(`${t.server.httpUrl}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${t.server.httpUrl}/readyz`)).json()).toEqual({ status: 'ready' });
    const metrics = await (await fetch(`${t.server.httpUrl}/metrics`)).text();
    expect(metrics).toContain('aloft_device_messages_total');
    expect(metrics).toContain('aloft_ingest_batch_write_seconds');
    const openapi = (await (await fetch(`${t.server.httpUrl}/docs/json`)).json()) as {
      openapi: string;
      paths: object;
    };
    expect(openapi.openapi).toMatch(/^3\./);
    expect(Object.keys(openapi.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/products',
        '/api/v1/products/{productKey}/devices/import',
        '/api/v1/jobs/batch',
      ]),
    );
    expect((await fetch(`${t.server.httpUrl}/docs`)).status).toBeLessThan(400);
  });
});
