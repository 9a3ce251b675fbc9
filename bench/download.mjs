#!/usr/bin/env node
/**
 * Download benchmark: Aloft's download route against nginx serving the same file.
 *
 * Run from the repository root:
 *   node bench/download.mjs [--seconds 3] [--rounds 5] [--variants] [--profile <dir>]
 *   node bench/download.mjs --size 1MiB [--rounds 3]     # per-request cost: small package, many requests
 *
 * Plain ESM JavaScript so that it runs on Node 20 without a TypeScript runner. It compiles the route, its
 * resolver, the filesystem blob store and the SQL store from packages/server/src with the repo's own `tsc` into
 * its temp directory (so it measures the current source, whatever state the rest of the server build is in), then:
 *   1. stores a random file of `--size` bytes (default 64 MiB) with FilesystemBlobStore (this also exercises
 *      put + fsync) and records it as a firmware package in a SQLite store (migrated like the server's),
 *   2. serves it with the download route on Fastify (127.0.0.1, free port, logger off), resolved as main.ts
 *      does (`createDownloadResolver`: firmware row + blob `stat`, cached), with the local-file fast path,
 *   3. serves the same file with nginx (Debian's, `sendfile on`, `worker_processes auto`, temp config,
 *      free loopback port), killed at the end,
 *   4. for small files (< 8 MiB) also the route with the resolver's cache off (`cacheMs: 0`: a row lookup and a
 *      `stat` per request, as before the cache), for an A/B in the same run,
 *   5. with --variants, also: the route fed by the blob store stream (`openRead` piped, the path an
 *      object store would take), a Fastify route using `reply.send(stream)` instead of `reply.hijack()`,
 *      and a bare node:http + createReadStream server, to record why the route is written as it is,
 *   6. measures each with wrk after a short warm-up, in `--rounds` interleaved rounds, keeping the best
 *      throughput of each (see main() for why) and the median CPU the serving process(es) spent per GiB and per
 *      request. Scenarios: 64 MiB: 1 connection (-t1) and 16 (-t2), keep-alive. Small files: also 16 connections
 *      opening a fresh connection for every request (`Connection: close`), as devices do.
 *   7. with --profile <dir>, one more unmeasured run of each Aloft route per scenario under V8's CPU profiler
 *      (what `node --cpu-prof` runs), written as <dir>/<server>-<scenario>.cpuprofile, with a self-time summary.
 * nginx and wrk are installed with apt-get when missing and running as root. Without wrk it falls back to
 * a Node client in a child process (said so in the output). Prints a table, then ONE JSON line.
 * Takes about 75 s with the defaults (20 timed runs of 3 s plus warm-ups and setup), about 2 minutes with
 * --size 1MiB; with --variants use --rounds 2 to stay under 2 minutes.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { Agent, createServer as createHttpServer, request } from 'node:http';
import { Session } from 'node:inspector/promises';
import { createConnection, createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';

const MIB = 1024 * 1024;
const GIB = 1024 ** 3;
/** Below this size a download is dominated by per-request work: measure requests/s and fresh connections. */
const SMALL_FILE_BYTES = 8 * MIB;
const SECRET = 'bench-secret-0123456789abcdef';
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');

if (process.argv[2] === '--node-client') {
  const [url, connections, duration, fresh] = process.argv.slice(3);
  await nodeClient(url, Number(connections), Number(duration), fresh === 'fresh');
  process.exit(0);
}

const args = process.argv.slice(2);
const value = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const FILE_BYTES = parseSize(value('--size') ?? '64MiB');
const smallFile = FILE_BYTES < SMALL_FILE_BYTES;
const seconds = Number(value('--seconds') ?? 3);
const rounds = Number(value('--rounds') ?? (smallFile ? 3 : 5));
const withVariants = args.includes('--variants');
const profileDir = value('--profile');
/** `c16new`: 16 connections, each request on a fresh one (what a fleet of devices looks like to the server). */
const SCENARIOS = [
  { name: 'c1', connections: 1, fresh: false },
  { name: 'c16', connections: 16, fresh: false },
  ...(smallFile ? [{ name: 'c16new', connections: 16, fresh: true }] : []),
];

const cleanups = [];
const cleanup = async () => {
  for (const fn of cleanups.reverse()) await fn().catch(() => undefined);
};
process.on('SIGINT', () => cleanup().then(() => process.exit(130)));

try {
  await main();
} finally {
  await cleanup();
}

async function main() {
  ensureDebianPackage('/usr/sbin/nginx', 'nginx');
  const haveWrk = ensureDebianPackage('/usr/bin/wrk', 'wrk');
  const work = await mkdtemp(join(tmpdir(), 'aloft-bench-download-'));
  cleanups.push(() => rm(work, { recursive: true, force: true }));
  // nginx workers run as an unprivileged user and must be able to reach the file.
  await chmod(work, 0o755);
  const aloft = await buildAloft(work);
  const { FilesystemBlobStore, downloadRoute, signDownloadUrl, createDownloadResolver, Fastify } = aloft;
  const store = await FilesystemBlobStore.open({ root: join(work, 'blobs') });
  const blob = await store.put(randomStream(FILE_BYTES));
  const firmwareRows = await recordFirmware(aloft, join(work, 'aloft.db'), blob);

  const servers = [];
  const signedUrl = (baseUrl, firmwareId) =>
    signDownloadUrl({
      baseUrl,
      firmwareId,
      fileName: 'firmware.bin',
      expiresAt: new Date(Date.now() + 3600_000),
      secret: SECRET,
    });
  /** The download route as main.ts wires it: the resolver over the SQL store and the blob store. */
  const startRoute = async ({ localFile = true, cacheMs } = {}) => {
    const app = Fastify({ logger: false });
    const resolveFirmware = createDownloadResolver({
      firmware: firmwareRows.store,
      blobs: localFile ? store : withoutLocalPath(store),
      ...(cacheMs !== undefined ? { cacheMs } : {}),
    });
    await app.register(downloadRoute, { secret: SECRET, resolve: resolveFirmware });
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    cleanups.push(() => app.close());
    return signedUrl(base, String(firmwareRows.id));
  };
  servers.push({
    name: 'aloft',
    label: 'Aloft download route (cached resolve, pooled buffers)',
    cpuSeconds: ownCpuSeconds,
    url: await startRoute(),
  });
  if (smallFile)
    servers.push({
      name: 'aloftUncached',
      label: 'Aloft route, resolve uncached (row + stat per request)',
      cpuSeconds: ownCpuSeconds,
      url: await startRoute({ cacheMs: 0 }),
    });

  const nginx = await startNginx(work, join(work, 'blobs'));
  const nginxPort = nginx.port;
  servers.push({
    name: 'nginx',
    label: `nginx ${nginxVersion()} (sendfile)`,
    cpuSeconds: () => processTreeCpuSeconds(nginx.pid),
    url: `http://127.0.0.1:${nginxPort}/${blob.key}`,
  });

  if (withVariants) {
    servers.push({
      name: 'aloftStreamBody',
      label: 'variant: Aloft route, openRead stream piped (1 MiB)',
      cpuSeconds: ownCpuSeconds,
      url: await startRoute({ localFile: false }),
    });

    const variant = Fastify({ logger: false });
    variant.get('/file', (_request, reply) => {
      reply
        .header('content-type', 'application/octet-stream')
        .header('content-length', blob.size)
        .send(store.openRead(blob.key));
    });
    const variantBase = await variant.listen({ host: '127.0.0.1', port: 0 });
    cleanups.push(() => variant.close());
    servers.push({
      name: 'fastifySendStream',
      label: 'variant: Fastify reply.send(stream), 1 MiB reads',
      cpuSeconds: ownCpuSeconds,
      url: `${variantBase}/file`,
    });

    const path = store.localPath(blob.key);
    const raw = createHttpServer((_request, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': blob.size });
      const file = createReadStream(path, { highWaterMark: MIB });
      res.once('close', () => file.destroy());
      file.pipe(res);
    });
    await new Promise((done) => raw.listen(0, '127.0.0.1', done));
    cleanups.push(() => new Promise((done) => raw.close(done)));
    servers.push({
      name: 'nodeHttpRaw',
      label: 'variant: bare node:http + createReadStream, 1 MiB',
      cpuSeconds: ownCpuSeconds,
      url: `http://127.0.0.1:${raw.address().port}/`,
    });
  }

  await verifySameBytes(servers, blob.size);

  const tool = haveWrk ? `wrk ${wrkVersion()}` : 'node client (wrk unavailable)';
  // Warm-up (JIT, page cache).
  for (const server of servers)
    for (const scenario of SCENARIOS) await measure(server.url, scenario, smallFile ? 1 : 2, haveWrk);
  // Interleaved rounds, best of each: on a shared (virtualised) host, noise only ever lowers throughput,
  // and interleaving spreads a noisy spell over every server instead of one. CPU per GiB and per request of
  // the serving process(es) is reported too: it is far less sensitive to a noisy neighbour than throughput.
  const samples = Object.fromEntries(
    servers.map((server) => [
      server.name,
      Object.fromEntries(
        SCENARIOS.map((s) => [
          s.name,
          { gibPerSecond: [], requestsPerSecond: [], cpuSecondsPerGiB: [], cpuMicrosPerRequest: [] },
        ]),
      ),
    ]),
  );
  for (let r = 0; r < rounds; r++) {
    for (const scenario of SCENARIOS) {
      for (const server of servers) {
        const cpuBefore = server.cpuSeconds();
        const run = await measure(server.url, scenario, seconds, haveWrk);
        const cpu = server.cpuSeconds() - cpuBefore;
        const sample = samples[server.name][scenario.name];
        sample.gibPerSecond.push(round(run.bytes / run.seconds / GIB, 2));
        sample.requestsPerSecond.push(Math.round(run.requests / run.seconds));
        sample.cpuSecondsPerGiB.push(round(cpu / (run.bytes / GIB), 3));
        sample.cpuMicrosPerRequest.push(Math.round((cpu / run.requests) * 1e6));
      }
    }
  }
  const median = (values) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)];
  const results = Object.fromEntries(
    Object.entries(samples).map(([name, byScenario]) => [
      name,
      Object.fromEntries(
        Object.entries(byScenario).map(([scenario, sample]) => [
          scenario,
          {
            gibPerSecond: Math.max(...sample.gibPerSecond),
            requestsPerSecond: Math.max(...sample.requestsPerSecond),
            cpuSecondsPerGiB: median(sample.cpuSecondsPerGiB),
            cpuMicrosPerRequest: median(sample.cpuMicrosPerRequest),
          },
        ]),
      ),
    ]),
  );
  const ratioToNginx = (name) =>
    Object.fromEntries(
      SCENARIOS.map((s) => [
        s.name,
        round(results[name][s.name].gibPerSecond / results.nginx[s.name].gibPerSecond, 2),
      ]),
    );
  const ratio = ratioToNginx('aloft');
  const machine = {
    nproc: cpus().length,
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    node: process.version,
    nginx: nginxVersion(),
    load: readFileSync('/proc/loadavg', 'utf8').split(' ')[0],
  };

  const pad = (text, width) => String(text).padStart(width);
  const sizeLabel = FILE_BYTES >= MIB ? `${round(FILE_BYTES / MIB, 2)} MiB` : `${FILE_BYTES} B`;
  console.log(
    `\nDownload of a ${sizeLabel} file over loopback, ${tool}, best of ${rounds} interleaved ${seconds} s runs`,
  );
  console.log(`machine: ${machine.nproc} cores (${machine.cpu}), node ${machine.node}, load ${machine.load}`);
  console.log(
    smallFile
      ? 'per scenario: requests/s (best) and CPU µs per request (median); c16new = a fresh connection per request\n'
      : 'per scenario: GiB/s (best) and CPU s per GiB (median)\n',
  );
  const cell = (r) =>
    smallFile
      ? `${pad(r.requestsPerSecond, 8)}${pad(`${r.cpuMicrosPerRequest}µs`, 9)}`
      : `${pad(r.gibPerSecond.toFixed(2), 8)}${pad(`${r.cpuSecondsPerGiB.toFixed(2)}s`, 9)}`;
  console.log(`${'server'.padEnd(58)}${SCENARIOS.map((s) => pad(s.name, 17)).join('')}`);
  for (const server of servers)
    console.log(
      `${server.label.padEnd(58)}${SCENARIOS.map((s) => cell(results[server.name][s.name])).join('')}`,
    );
  for (const name of servers
    .map((s) => s.name)
    .filter((n) => n !== 'nginx' && (n === 'aloft' || smallFile))) {
    const r = ratioToNginx(name);
    console.log(
      `${`${name} / nginx throughput`.padEnd(58)}${SCENARIOS.map((s) => pad(`${Math.round(r[s.name] * 100)}%`, 17)).join('')}`,
    );
  }
  const met = SCENARIOS.every((s) => ratio[s.name] >= 0.8);
  console.log(`target: >= 80% of nginx -> ${met ? 'met' : 'NOT met'}\n`);
  console.log(
    JSON.stringify({
      bench: 'download',
      fileBytes: FILE_BYTES,
      tool,
      secondsPerRun: seconds,
      rounds,
      unit: 'best of rounds for throughput (GiB/s, requests/s); median for CPU (s per GiB, µs per request)',
      results,
      ratioAloftToNginx: ratio,
      samples,
      machine,
    }),
  );

  if (profileDir) {
    await mkdir(profileDir, { recursive: true });
    for (const server of servers.filter((s) => s.name.startsWith('aloft')))
      for (const scenario of SCENARIOS) {
        const file = join(profileDir, `${server.name}-${scenario.name}.cpuprofile`);
        const stop = await startCpuProfile();
        const run = await measure(server.url, scenario, seconds, haveWrk);
        const summary = await stop(file);
        console.log(
          `\nprofile ${file} (${run.requests} requests; ${summary.busyMs} of ${summary.totalMs} ms busy; % of busy)`,
        );
        for (const row of summary.top) console.log(`${pad(row.percent.toFixed(1), 6)}%  ${row.name}`);
      }
  }
}

/** `64MiB`, `1MiB`, `512KiB`, `1000000`. */
function parseSize(text) {
  const match = /^(\d+(?:\.\d+)?)\s*(|B|KiB|MiB|GiB)$/i.exec(text);
  if (!match || Number(match[1]) <= 0) throw new Error(`--size: expected e.g. 1MiB or 65536, got ${text}`);
  const unit = { '': 1, b: 1, kib: 1024, mib: MIB, gib: GIB }[match[2].toLowerCase()];
  return Math.round(Number(match[1]) * unit);
}

/** The SQLite store the server would use, holding one firmware package that points at `blob`. */
async function recordFirmware({ openStore, ProductStore, FirmwareStore }, path, blob) {
  const db = await openStore({ url: path });
  cleanups.push(() => db.close());
  const now = Date.now();
  await new ProductStore(db.db).create(
    { key: 'bench', name: 'bench', dialect: 'aliyun', signingPublicKey: null, signingPrivateKey: null },
    now,
  );
  const firmware = new FirmwareStore(db.db);
  const { id } = await firmware.create(
    {
      productKey: 'bench',
      module: 'default',
      version: '1.0.0',
      description: '',
      sourceVersions: [],
      fileName: 'firmware.bin',
      size: blob.size,
      md5: blob.md5,
      sha256: blob.sha256,
      blobKey: blob.key,
      externalUrl: null,
      signature: null,
    },
    now,
  );
  return { store: firmware, id };
}

/** The blob store as one without local files (an object store) would look to the resolver. */
function withoutLocalPath(store) {
  return {
    put: (...a) => store.put(...a),
    stat: (key) => store.stat(key),
    openRead: (key, range) => store.openRead(key, range),
    delete: (key) => store.delete(key),
  };
}

/** V8's CPU profiler in this process (where the routes run); returns a function that stops and summarizes. */
async function startCpuProfile() {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  return async (file) => {
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    await writeFile(file, JSON.stringify(profile));
    const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
    const selfMs = new Map();
    let totalMs = 0;
    let busyMs = 0;
    profile.samples.forEach((id, i) => {
      const frame = frames.get(id);
      const ms = (profile.timeDeltas[i] ?? 0) / 1000;
      totalMs += ms;
      if (frame.functionName === '(idle)') return;
      busyMs += ms;
      const where = frame.url
        ? ` ${frame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/build\//, '')}:${frame.lineNumber + 1}`
        : '';
      const name = `${frame.functionName || '(anonymous)'}${where}`;
      selfMs.set(name, (selfMs.get(name) ?? 0) + ms);
    });
    const top = [...selfMs.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 25)
      .map(([name, ms]) => ({ name, percent: (ms / busyMs) * 100 }));
    return { totalMs: Math.round(totalMs), busyMs: Math.round(busyMs), top };
  };
}

/** Compiles the route, its resolver and the stores from source into a directory Node can import from. */
async function buildAloft(work) {
  const out = join(work, 'build');
  const sources = [
    'packages/server/src/transport/http/download/download-route.ts',
    'packages/server/src/transport/http/download/download-url.ts',
    'packages/server/src/transport/http/download/download-resolver.ts',
    'packages/server/src/blobs/filesystem-blob-store.ts',
    'packages/server/src/store/database.ts',
    'packages/server/src/store/product-store.ts',
    'packages/server/src/store/firmware-store.ts',
  ];
  execFileSync(
    join(repo, 'node_modules/.bin/tsc'),
    [
      ...['--ignoreConfig', '--outDir', out, '--rootDir', 'packages/server/src'],
      ...['--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2023'],
      ...['--strict', '--verbatimModuleSyntax', '--skipLibCheck', '--types', 'node'],
      ...sources,
    ],
    { cwd: repo, stdio: 'inherit' },
  );
  // The compiled files import `fastify`, `kysely`…: let them find the repo's dependencies, as ES modules.
  await symlink(join(repo, 'node_modules'), join(work, 'node_modules'), 'dir');
  await writeFile(join(work, 'package.json'), '{ "type": "module" }\n');
  const load = (path) => import(pathToFileURL(join(out, path)).href);
  const [
    { FilesystemBlobStore },
    { downloadRoute },
    { signDownloadUrl },
    { createDownloadResolver },
    { openStore },
    { ProductStore },
    { FirmwareStore },
  ] = await Promise.all([
    load('blobs/filesystem-blob-store.js'),
    load('transport/http/download/download-route.js'),
    load('transport/http/download/download-url.js'),
    load('transport/http/download/download-resolver.js'),
    load('store/database.js'),
    load('store/product-store.js'),
    load('store/firmware-store.js'),
  ]);
  const { default: Fastify } = await import('fastify');
  return {
    FilesystemBlobStore,
    downloadRoute,
    signDownloadUrl,
    createDownloadResolver,
    openStore,
    ProductStore,
    FirmwareStore,
    Fastify,
  };
}

/** Installs a Debian package when its binary is missing; returns whether the binary is there. */
function ensureDebianPackage(binary, pkg) {
  if (existsSync(binary)) return true;
  if (process.getuid?.() !== 0) {
    console.error(`${binary} is missing: apt-get install -y ${pkg}`);
    return false;
  }
  console.error(`installing ${pkg} (apt-get)...`);
  spawnSync('apt-get', ['update'], { stdio: 'ignore' });
  spawnSync('apt-get', ['install', '-y', pkg], {
    stdio: 'ignore',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  return existsSync(binary);
}

async function startNginx(work, docRoot) {
  if (!existsSync('/usr/sbin/nginx'))
    throw new Error('nginx is required for the baseline: apt-get install -y nginx');
  const prefix = join(work, 'nginx');
  await mkdir(join(prefix, 'logs'), { recursive: true });
  const port = await freePort();
  // Debian's defaults where they matter for throughput (sendfile, tcp_nopush, one worker per core).
  const conf = `
worker_processes auto;
pid ${prefix}/nginx.pid;
error_log ${prefix}/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  client_body_temp_path ${prefix}/client_body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  server {
    listen 127.0.0.1:${port};
    location / { root ${docRoot}; default_type application/octet-stream; }
  }
}
`;
  await writeFile(join(prefix, 'nginx.conf'), conf);
  const child = spawn(
    '/usr/sbin/nginx',
    ['-p', prefix, '-c', join(prefix, 'nginx.conf'), '-g', 'daemon off;'],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  cleanups.push(async () => {
    if (child.exitCode === null) {
      const exited = new Promise((done) => child.once('exit', done));
      child.kill('SIGTERM');
      await exited;
    }
  });
  await waitForPort(port, child);
  return { port, pid: child.pid };
}

/**
 * Downloads `url` over `scenario.connections` connections for `duration` seconds: keep-alive, or with
 * `scenario.fresh` a new connection for every request. Returns requests, bytes and seconds.
 */
async function measure(url, scenario, duration, haveWrk) {
  const { connections, fresh } = scenario;
  // Asynchronous on purpose: the Aloft server lives in this process and must keep serving meanwhile.
  if (!haveWrk) {
    const client = await run(process.execPath, [
      fileURLToPath(import.meta.url),
      '--node-client',
      url,
      connections,
      duration,
      fresh ? 'fresh' : 'keep-alive',
    ]);
    const [requests, bytes, secondsTaken] = client.stdout.trim().split(' ').map(Number);
    return { requests, bytes, seconds: secondsTaken };
  }
  const threads = connections === 1 ? 1 : 2;
  const wrk = await run('wrk', [
    `-t${threads}`,
    `-c${connections}`,
    `-d${duration}s`,
    '--timeout',
    '30s',
    // The server closes after the response; wrk then reconnects for the next request.
    ...(fresh ? ['-H', 'Connection: close'] : []),
    url,
  ]);
  const summary = /(\d+) requests in ([\d.]+)(m?s), ([\d.]+)([KMGT]?B) read/.exec(wrk.stdout);
  if (!summary) throw new Error(`unexpected wrk output:\n${wrk.stdout}\n${wrk.stderr}`);
  if (/Non-2xx|Socket errors/.test(wrk.stdout))
    console.error(`wrk reported errors for ${url}:\n${wrk.stdout}`);
  const [, requests, time, timeUnit, amount, amountUnit] = summary;
  const secondsTaken = Number(time) / (timeUnit === 'ms' ? 1000 : 1);
  // wrk prints binary units (1 GB = 2^30 bytes) with two decimals: for small files count requests instead.
  const printed = Number(amount) * 1024 ** ' KMGT'.indexOf(amountUnit.slice(0, -1) || ' ');
  const bytes = smallFile ? Number(requests) * FILE_BYTES : printed;
  return { requests: Number(requests), bytes, seconds: secondsTaken };
}

function run(command, commandArgs) {
  return new Promise((done, fail) => {
    const child = spawn(command, commandArgs.map(String), { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.once('error', fail);
    child.once('close', (code) =>
      code === 0 ? done({ stdout, stderr }) : fail(new Error(`${command} exited with ${code}: ${stderr}`)),
    );
  });
}

/** Fallback load generator: `connections` loops of GETs; prints requests, bytes and seconds. */
async function nodeClient(url, connections, duration, fresh) {
  const agent = new Agent({ keepAlive: !fresh, maxSockets: connections });
  const deadline = Date.now() + duration * 1000;
  let requests = 0;
  let bytes = 0;
  const loop = async () => {
    while (Date.now() < deadline) {
      await new Promise((done, fail) => {
        request(url, { agent }, (res) => {
          res.on('data', (chunk) => {
            bytes += chunk.length;
          });
          res.on('end', done);
          res.on('error', fail);
        })
          .on('error', fail)
          .end();
      });
      requests++;
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: connections }, loop));
  console.log(`${requests} ${bytes} ${(Date.now() - started) / 1000}`);
  agent.destroy();
}

/** Both servers must send the same bytes, or the comparison means nothing. */
async function verifySameBytes(servers, size) {
  for (const server of servers) {
    const { status, length } = await new Promise((done, fail) => {
      request(server.url, (res) => {
        let received = 0;
        res.on('data', (chunk) => {
          received += chunk.length;
        });
        res.on('end', () => done({ status: res.statusCode, length: received }));
      })
        .on('error', fail)
        .end();
    });
    if (status !== 200 || length !== size)
      throw new Error(`${server.name} answered ${status} with ${length} bytes`);
  }
}

function randomStream(size) {
  const chunk = 1024 * 1024;
  let left = size;
  return new Readable({
    read() {
      const n = Math.min(chunk, left);
      left -= n;
      this.push(n > 0 ? randomBytes(n) : null);
    },
  });
}

function freePort() {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });
}

async function waitForPort(port, child) {
  for (let attempt = 0; attempt < 100; attempt++) {
    if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}`);
    const open = await new Promise((done) => {
      const socket = createConnection({ port, host: '127.0.0.1' });
      socket.once('connect', () => {
        socket.destroy();
        done(true);
      });
      socket.once('error', () => done(false));
    });
    if (open) return;
    await new Promise((done) => setTimeout(done, 50));
  }
  throw new Error(`nginx did not listen on ${port}`);
}

function ownCpuSeconds() {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/** User + system CPU of a process and its direct children (nginx master and workers), from /proc. */
function processTreeCpuSeconds(pid) {
  let ticks = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // Fields after the parenthesised command name: state ppid ... utime(14) stime(15).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(entry) === pid || Number(fields[1]) === pid) ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / CLOCK_TICKS;
}

function nginxVersion() {
  const out = spawnSync('/usr/sbin/nginx', ['-v'], { encoding: 'utf8' });
  return /nginx\/(\S+)/.exec(out.stderr)?.[1] ?? 'unknown';
}

function wrkVersion() {
  const out = spawnSync('wrk', ['--version'], { encoding: 'utf8' });
  return /wrk (\S+)/.exec(out.stdout + out.stderr)?.[1] ?? 'unknown';
}

function round(value, digits) {
  return Math.round(value * 10 ** digits) / 10 ** digits;
}
