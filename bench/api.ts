/**
 * API benchmark: latency of the job detail and the job's device list (the console's "failed" tab, its first page
 * and a later one; a deep page of all devices), each deep page by offset and by `after` (keyset), for a running job
 * of 100,000 devices, on SQLite and on PostgreSQL, against the cheapest authenticated endpoint of the same server in
 * the same run (GET /products/:key: auth + one-row read).
 *
 *   npx tsx bench/api.ts [--devices 100000] [--seconds 5] [--connections 1,10]
 *                                            [--stores sqlite,postgres] [--explain] [--profile <dir>]
 *
 * The job is seeded straight into the store (60 % succeeded, 12 % failed or timed out, the rest in flight or
 * queued; devices offline), then the server runs as in production, rollout engine ticking over the job every second.
 * autocannon runs in a child process. PostgreSQL: ALOFT_TEST_POSTGRES_URL (default 127.0.0.1), its own schema.
 * After seeding, each database gets what it would have had in a running deployment by then: VACUUM ANALYZE
 * (PostgreSQL's autovacuum), PRAGMA optimize (the server's hourly run on SQLite).
 * With --explain, each statement behind the endpoints and the engine tick's reads, captured as the store runs it,
 * is timed and its plan printed.
 * Target: p99 < 100 ms.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../packages/server/src/config/config.js';
import { type RunningServer, startServer } from '../packages/server/src/main.js';
import { explain, jobStatements, maintain, type TabPage, timeQuery } from './lib/api-explain.js';
import { type LargeJob, seedLargeJob } from './lib/api-seed.js';
import { type ProfileSummary, profilePath, startCpuProfile } from './lib/cpu-profile.js';
import { LoadGenerator, type LoadResult } from './lib/load.js';
import { note, printJson, printTable, round } from './lib/report.js';
import { benchSchema, dropSchema, POSTGRES_URL, reachable } from './lib/services.js';
import { ensureSourceConditions } from './lib/source-conditions.js';

const { values: opts } = parseArgs({
  options: {
    devices: { type: 'string', default: '100000' },
    seconds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '1,10' },
    stores: { type: 'string', default: 'sqlite,postgres' },
    explain: { type: 'boolean', default: false },
    profile: { type: 'string' },
  },
});
const TOKEN = 'bench-admin-token-0123456789';
const TARGET_P99_MS = 100;

type StoreName = 'sqlite' | 'postgres';

interface Row extends LoadResult {
  store: StoreName;
  endpoint: string;
  connections: number;
}

interface Endpoint {
  name: string;
  path: string;
  /** A device tab page: which one (for --explain). */
  tabPage?: TabPage;
  /** A page by `after`: the path of the same page by offset, whose rows it must hold. */
  sameRowsAs?: string;
}

/** How deep the deep pages are: 80 % into the failed tab, 90 % into all devices. */
function depths(job: LargeJob): Record<'failed' | 'all', number> {
  return {
    failed: Math.max(0, Math.floor((job.failed * 0.8) / 50) * 50),
    all: Math.max(0, Math.floor((job.devices * 0.9) / 50) * 50),
  };
}

/**
 * The endpoints; a deep page both by offset (what a client paging by offset gets) and by `after` the id just before
 * it (what a client following `nextAfter` gets).
 */
function endpoints(job: LargeJob, cursors: Record<'failed' | 'all', number>): Endpoint[] {
  const depth = depths(job);
  const tabPage = (name: string, tab: TabPage['tab'], page: TabPage['page']): Endpoint => ({
    name,
    path: `/api/v1/jobs/${job.jobId}/devices?tab=${tab}&limit=${page.limit}&${page.after === undefined ? `offset=${page.offset}` : `after=${page.after}`}`,
    tabPage: { name, tab, page },
  });
  const deepPage = (label: string, tab: 'failed' | 'all'): Endpoint[] => {
    const byOffset = tabPage(`${label}, offset ${depth[tab]}`, tab, { limit: 50, offset: depth[tab] });
    const byAfter = tabPage(`${label}, after the id at ${depth[tab]}`, tab, {
      limit: 50,
      after: cursors[tab],
    });
    return [byOffset, { ...byAfter, sameRowsAs: byOffset.path }];
  };
  return [
    { name: 'floor: GET /products/:key', path: `/api/v1/products/${job.productKey}` },
    { name: 'job detail', path: `/api/v1/jobs/${job.jobId}` },
    tabPage('failed tab, page 1', 'failed', { limit: 50, offset: 0 }),
    ...deepPage('failed tab', 'failed'),
    ...deepPage('all devices', 'all'),
  ];
}

interface DevicePage {
  items: { id: number }[];
  total: number;
  nextAfter: number | null;
}

async function getJson<T>(server: RunningServer, path: string): Promise<T> {
  const response = await fetch(`${server.httpUrl}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  const body = (await response.json()) as T;
  if (response.status !== 200) throw new Error(`${path}: HTTP ${response.status} ${JSON.stringify(body)}`);
  return body;
}

/** The ids just before the deep pages, as a client walking by `after` would hold them: the server's own tab order. */
async function cursorsOf(server: RunningServer, job: LargeJob): Promise<Record<'failed' | 'all', number>> {
  const depth = depths(job);
  const idBefore = async (tab: 'failed' | 'all') => {
    if (depth[tab] === 0) return 0;
    const path = `/api/v1/jobs/${job.jobId}/devices?tab=${tab}&limit=1&offset=${depth[tab] - 1}`;
    return (await getJson<DevicePage>(server, path)).items[0]!.id;
  };
  return { failed: await idBefore('failed'), all: await idBefore('all') };
}

async function start(store: StoreName, dataDir: string, schema: string): Promise<RunningServer> {
  return startServer(
    loadConfig({
      env: {},
      overrides: {
        httpHost: '127.0.0.1',
        httpPort: 0,
        mqttHost: '127.0.0.1',
        mqttPort: 0,
        dataDir,
        adminToken: TOKEN,
        logLevel: 'error',
        ...(store === 'postgres' ? { databaseUrl: POSTGRES_URL, databaseSchema: schema } : {}),
      },
    }),
  );
}

/**
 * Calls every endpoint once: a benchmark of error responses would be worthless. A page by `after` must hold the rows
 * of the same page by offset.
 */
async function check(server: RunningServer, job: LargeJob, list: readonly Endpoint[]): Promise<void> {
  const ids = async (path: string) => (await getJson<DevicePage>(server, path)).items.map((u) => u.id).join();
  for (const { path, tabPage, sameRowsAs } of list) {
    const body = await getJson<{ total?: number }>(server, path);
    if (!tabPage && path.includes('/jobs/') && body.total !== job.devices)
      throw new Error(`${path}: total ${body.total}, expected ${job.devices}`);
    if (sameRowsAs && (await ids(path)) !== (await ids(sameRowsAs)))
      throw new Error(`${path}: not the rows of ${sameRowsAs}`);
  }
}

/** How long one engine tick over the job takes: it shares the event loop (and SQLite's one connection) with the API. */
async function tickMs(server: RunningServer): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    await server.engine.tick();
    times.push(performance.now() - started);
  }
  note(`engine ticks: ${times.map((t) => Math.round(t)).join(', ')} ms`);
  return times.sort((a, b) => a - b)[2]!;
}

async function benchStore(store: StoreName, load: LoadGenerator) {
  const dataDir = await mkdtemp(join(tmpdir(), `aloft-bench-api-${store}-`));
  const schema = benchSchema();
  const server = await start(store, dataDir, schema);
  const rows: Row[] = [];
  const plans: Record<string, string[]> = {};
  const profiles: { endpoint: string; file: string; summary: ProfileSummary }[] = [];
  try {
    note(`${store}: seeding ${opts.devices} devices and a job over all of them`);
    const job = await seedLargeJob(server.store.db, Number(opts.devices));
    await maintain(server.store.db, server.store.dialect);
    note(`${store}: seeded in ${Math.round(job.seedMs)} ms`);
    const list = endpoints(job, await cursorsOf(server, job));
    await check(server, job, list);
    const engineTickMs = await tickMs(server);
    if (opts.explain) {
      const tabPages = list.flatMap((e) => (e.tabPage ? [e.tabPage] : []));
      const queries = await jobStatements(server.store.db, server.store.dialect, job.jobId, tabPages);
      for (const [name, query] of Object.entries(queries)) {
        const ms = await timeQuery(server.store.db, query);
        plans[`${name} (${round(ms)} ms)`] = await explain(server.store.db, server.store.dialect, query);
      }
    }
    const headers = { authorization: `Bearer ${TOKEN}` };
    for (const connections of (opts.connections ?? '1').split(',').map(Number)) {
      for (const endpoint of list) {
        const result = await load.run({
          url: `${server.httpUrl}${endpoint.path}`,
          connections,
          seconds: Number(opts.seconds),
          headers,
        });
        rows.push({ store, endpoint: endpoint.name, connections, ...result });
        note(
          `${store} ${endpoint.name} c=${connections}: p50 ${result.p50} ms, p99 ${result.p99} ms, ${Math.round(result.perSecond)} req/s`,
        );
      }
    }
    if (opts.profile) {
      for (const endpoint of list.slice(1, 3)) {
        const stop = await startCpuProfile();
        await load.run({
          url: `${server.httpUrl}${endpoint.path}`,
          connections: 10,
          seconds: Number(opts.seconds),
          headers,
        });
        const file = profilePath(opts.profile, `api-${store}-${endpoint.name.replace(/\W+/g, '-')}`);
        profiles.push({ endpoint: endpoint.name, file, summary: await stop(file) });
      }
    }
    return { rows, plans, profiles, engineTickMs, seedMs: job.seedMs, failedRows: job.failed };
  } finally {
    await server.close();
    if (store === 'postgres') await dropSchema(POSTGRES_URL, schema);
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function main() {
  const load = LoadGenerator.start();
  const results: Partial<Record<StoreName, Awaited<ReturnType<typeof benchStore>>>> = {};
  try {
    for (const store of (opts.stores ?? '').split(',').filter(Boolean) as StoreName[]) {
      if (store === 'postgres' && !(await reachable(POSTGRES_URL, 5432))) {
        note(`postgres skipped: ${POSTGRES_URL} is not reachable`);
        continue;
      }
      results[store] = await benchStore(store, load);
    }
  } finally {
    await load.stop();
  }
  const rows = Object.values(results).flatMap((r) => r.rows);
  const floor = (row: Row) =>
    rows.find(
      (r) => r.store === row.store && r.connections === row.connections && r.endpoint.startsWith('floor'),
    )?.p99;
  printTable(
    `API latency, job of ${Number(opts.devices).toLocaleString('en-US')} devices, ${opts.seconds} s per run (target p99 < ${TARGET_P99_MS} ms)`,
    [
      'store',
      'endpoint',
      'connections',
      'req/s',
      'p50 ms',
      'p90 ms',
      'p99 ms',
      'max ms',
      'p99 < 100 ms',
      'p99 ÷ floor p99',
      'errors',
    ],
    rows.map((r) => {
      const f = floor(r);
      return [
        r.store,
        r.endpoint,
        r.connections,
        Math.round(r.perSecond),
        r.p50,
        r.p90,
        r.p99,
        r.max,
        r.p99 < TARGET_P99_MS ? 'yes' : 'NO',
        f ? `${round(r.p99 / Math.max(f, 1))}×` : undefined,
        r.errors + r.non2xx,
      ];
    }),
  );
  printTable(
    'Setup',
    ['store', 'seed ms', 'failed-tab rows', 'engine tick over the job, ms (median of 5)'],
    Object.entries(results).map(([store, r]) => [
      store,
      Math.round(r.seedMs),
      r.failedRows,
      round(r.engineTickMs),
    ]),
  );
  for (const [store, r] of Object.entries(results)) {
    for (const [name, lines] of Object.entries(r.plans))
      console.log(`\n${store} plan, ${name}:\n  ${lines.join('\n  ')}`);
    for (const p of r.profiles) {
      printTable(
        `CPU profile, ${store} ${p.endpoint} (${p.summary.totalMs} ms sampled; ${p.file})`,
        ['function', 'ms', '%'],
        p.summary.functions.slice(0, 12).map((f) => [f.name, f.ms, f.percent]),
      );
    }
  }
  printJson('api', {
    options: { devices: Number(opts.devices), seconds: Number(opts.seconds), connections: opts.connections },
    targetP99Ms: TARGET_P99_MS,
    rows,
    setup: Object.fromEntries(
      Object.entries(results).map(([store, r]) => [
        store,
        { seedMs: Math.round(r.seedMs), engineTickMs: round(r.engineTickMs) },
      ]),
    ),
  });
}

ensureSourceConditions();
await main();
process.exit(0);
