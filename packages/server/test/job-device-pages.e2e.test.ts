import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UpgradeState } from '../src/domain/index.js';
import { seedEventFixture } from '../src/store/testing/upgrade-event-fixture.js';
import { startTestServer, type TestServer, uniqueProductKey } from '../src/testing/test-server.js';

interface DevicePage {
  items: { id: number; deviceName: string; state: string }[];
  total: number;
  nextAfter: number | null;
}
interface ErrorBody {
  code: string;
  message: string;
}

const STATES: UpgradeState[] = ['failed', 'succeeded', 'timed_out', 'queued', 'failed'];

describe('a job’s device pages over HTTP', () => {
  let t: TestServer;
  let base: string;
  /** The failed tab's upgrade ids, in id order. */
  const failedTab: number[] = [];

  beforeAll(async () => {
    t = await startTestServer();
    // A completed job: the engine leaves it alone, so its tabs stay as written.
    const fx = await seedEventFixture(t.server.store.db, {
      productKey: uniqueProductKey(),
      devices: 12,
      jobs: 1,
      jobState: 'completed',
    });
    const [job] = fx.jobIds as [number];
    for (const [i, deviceId] of fx.deviceIds.entries()) {
      const state = STATES[i % STATES.length]!;
      const id = await fx.addUpgrade(job, deviceId, state);
      if (state === 'failed' || state === 'timed_out') failedTab.push(id);
    }
    base = `/api/v1/jobs/${job}/devices`;
  });
  afterAll(() => t?.close());

  const get = <T>(query: string) => t.api<T>('GET', `${base}?${query}`);

  it('walks a tab with `after`: every page names the next one’s start, the last page none', async () => {
    const seen: number[] = [];
    let page = (await get<DevicePage>('tab=failed&limit=2')).body;
    for (;;) {
      expect(page.total).toBe(failedTab.length);
      seen.push(...page.items.map((u) => u.id));
      if (page.nextAfter === null) break;
      expect(page.nextAfter).toBe(page.items.at(-1)!.id);
      const next = await get<DevicePage>(`tab=failed&limit=2&after=${page.nextAfter}`);
      expect(next.status).toBe(200);
      page = next.body;
    }
    expect(seen).toEqual(failedTab);
    expect(failedTab.length).toBe(7);

    // Offset pages carry the cursor too; past the end there is nothing and no next page.
    expect((await get<DevicePage>('tab=failed&limit=2&offset=2')).body.nextAfter).toBe(failedTab[3]);
    expect((await get<DevicePage>('tab=failed&limit=2&offset=6')).body.nextAfter).toBeNull();
    expect((await get<DevicePage>(`tab=all&after=${failedTab.at(-1)! + 100}`)).body).toEqual({
      items: [],
      total: 12,
      nextAfter: null,
    });
  });

  it('keeps a search while walking by `after`', async () => {
    // dev-1, dev-10, dev-11, dev-12.
    const first = (await get<DevicePage>('search=dev-1&limit=3')).body;
    expect(first.items.map((u) => u.deviceName)).toEqual(['dev-1', 'dev-10', 'dev-11']);
    expect(first.total).toBe(4);
    const second = (await get<DevicePage>(`search=dev-1&limit=3&after=${first.nextAfter}`)).body;
    expect(second).toMatchObject({ total: 4, nextAfter: null });
    expect(second.items.map((u) => u.deviceName)).toEqual(['dev-12']);
  });

  it('refuses `offset` and `after` together, and an `after` that is not an id', async () => {
    const both = await get<ErrorBody>('offset=0&after=5');
    expect(both.status).toBe(400);
    expect(both.body).toEqual({
      code: 'ALOFT_VALIDATION',
      message: expect.stringContaining('offset and after cannot be combined'),
    });
    for (const bad of ['abc', '-1', '1.5', '5&after=6', '']) {
      const refused = await get<ErrorBody>(`after=${bad}`);
      expect(refused.status, bad).toBe(400);
      expect(refused.body, bad).toMatchObject({
        code: 'ALOFT_VALIDATION',
        message: expect.stringContaining('after'),
      });
    }
  });

  it('documents `after` and `nextAfter` in the OpenAPI document', async () => {
    const openapi = (await (await fetch(`${t.server.httpUrl}/docs/json`)).json()) as {
      paths: Record<string, { get: { parameters: { name: string }[]; responses: Record<string, unknown> } }>;
    };
    const route = openapi.paths['/api/v1/jobs/{jobId}/devices']!.get;
    expect(route.parameters.map((p) => p.name)).toEqual(expect.arrayContaining(['after', 'offset', 'limit']));
    expect(JSON.stringify(route.responses['200'])).toContain('nextAfter');
  });
});
