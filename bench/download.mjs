#!/usr/bin/env node
/**
 * Download benchmark: Aloft's download route against nginx serving the same 64 MiB file.
 *
 * Run from the repository root:   node bench/download.mjs [--seconds 3] [--rounds 5] [--variants]
 *
 * Plain ESM JavaScript so that it runs on Node 20 without a TypeScript runner. It compiles the route and
 * the filesystem blob store from packages/server/src with the repo's own `tsc` into its temp directory
 * (so it measures the current source, whatever state the rest of the server build is in), then:
 *   1. stores a 64 MiB random file with FilesystemBlobStore (this also exercises put + fsync),
 *   2. serves it with the download route on Fastify (127.0.0.1, free port, logger off), with the
 *      local-file fast path as main.ts should wire it for the filesystem store,
 *   3. serves the same file with nginx (Debian's, `sendfile on`, `worker_processes auto`, temp config,
 *      free loopback port), killed at the end,
 *   4. with --variants, also: the route fed by the blob store stream (`openRead` piped, the path an
 *      object store would take), a Fastify route using `reply.send(stream)` instead of `reply.hijack()`,
 *      and a bare node:http + createReadStream server, to record why the route is written as it is,
 *   5. measures each with wrk, 1 connection (-t1) and 16 connections (-t2), after a short warm-up, in
 *      `--rounds` interleaved rounds, keeping the best throughput of each (see main() for why), and the
 *      median CPU seconds the serving process(es) spent per GiB sent.
 * nginx and wrk are installed with apt-get when missing and running as root. Without wrk it falls back to
 * a Node keep-alive client in a child process (said so in the output). Prints a table, then ONE JSON line.
 * Takes about 75 s with the defaults (20 timed runs of 3 s plus warm-ups and setup); with --variants
 * use --rounds 2 to stay under 2 minutes.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { Agent, createServer as createHttpServer, request } from 'node:http';
import { createConnection, createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';

const FILE_BYTES = 64 * 1024 * 1024;
const GIB = 1024 ** 3;
const SECRET = 'bench-secret-0123456789abcdef';
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');

if (process.argv[2] === '--node-client') {
  await nodeClient(process.argv[3], Number(process.argv[4]), Number(process.argv[5]));
  process.exit(0);
}

const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
const seconds = option('--seconds', 3);
const rounds = option('--rounds', 5);
const withVariants = args.includes('--variants');

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
  const { FilesystemBlobStore, downloadRoute, signDownloadUrl, Fastify } = await buildAloft(work);
  const store = await FilesystemBlobStore.open({ root: join(work, 'blobs') });
  const blob = await store.put(randomStream(FILE_BYTES));

  const servers = [];
  const signedUrl = (baseUrl) =>
    signDownloadUrl({
      baseUrl,
      firmwareId: 'fw-bench',
      fileName: 'firmware.bin',
      expiresAt: new Date(Date.now() + 3600_000),
      secret: SECRET,
    });
  /** The download route as main.ts wires it, with or without the local-file fast path. */
  const startRoute = async (localFile) => {
    const app = Fastify({ logger: false });
    await app.register(downloadRoute, {
      secret: SECRET,
      resolve: async () => ({
        fileName: 'firmware.bin',
        size: blob.size,
        sha256: blob.sha256,
        openRead: (range) => store.openRead(blob.key, range),
        ...(localFile ? { localPath: store.localPath(blob.key) } : {}),
      }),
    });
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    cleanups.push(() => app.close());
    return signedUrl(base);
  };
  servers.push({
    name: 'aloft',
    label: 'Aloft download route (local file, pooled 1 MiB buffers)',
    cpuSeconds: ownCpuSeconds,
    url: await startRoute(true),
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
      url: await startRoute(false),
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
      const file = createReadStream(path, { highWaterMark: 1024 * 1024 });
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

  const tool = haveWrk ? `wrk ${wrkVersion()}` : 'node keep-alive client (wrk unavailable)';
  for (const server of servers) await measure(server.url, 4, 2, haveWrk); // warm-up (JIT, page cache)
  // Interleaved rounds, best of each: on a shared (virtualised) host, noise only ever lowers throughput,
  // and interleaving spreads a noisy spell over every server instead of one. CPU seconds per GiB of the
  // serving process(es) is reported too: it is far less sensitive to a noisy neighbour than throughput.
  const samples = Object.fromEntries(
    servers.map((server) => [server.name, { c1: [], c16: [], cpuPerGiB: { c1: [], c16: [] } }]),
  );
  for (let r = 0; r < rounds; r++) {
    for (const connections of [1, 16]) {
      for (const server of servers) {
        const cpuBefore = server.cpuSeconds();
        const { gibPerSecond, bytes } = await measure(server.url, connections, seconds, haveWrk);
        const cpu = server.cpuSeconds() - cpuBefore;
        samples[server.name][`c${connections}`].push(gibPerSecond);
        samples[server.name].cpuPerGiB[`c${connections}`].push(round(cpu / (bytes / GIB), 3));
      }
    }
  }
  const median = (values) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)];
  const results = Object.fromEntries(
    Object.entries(samples).map(([name, sample]) => [
      name,
      {
        c1: Math.max(...sample.c1),
        c16: Math.max(...sample.c16),
        cpuSecondsPerGiB: { c1: median(sample.cpuPerGiB.c1), c16: median(sample.cpuPerGiB.c16) },
      },
    ]),
  );
  const ratio = {
    c1: round(results.aloft.c1 / results.nginx.c1, 2),
    c16: round(results.aloft.c16 / results.nginx.c16, 2),
  };
  const machine = {
    nproc: cpus().length,
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    node: process.version,
    nginx: nginxVersion(),
  };

  const pad = (text, width) => String(text).padStart(width);
  console.log(
    `\nDownload of a ${FILE_BYTES / 1024 / 1024} MiB file over loopback, ${tool}, best of ${rounds} interleaved ${seconds} s runs`,
  );
  console.log(`machine: ${machine.nproc} cores (${machine.cpu}), node ${machine.node}\n`);
  console.log(
    `${'server'.padEnd(58)}${pad('GiB/s c1', 10)}${pad('GiB/s c16', 11)}${pad('cpu s/GiB c1', 14)}${pad('c16', 7)}`,
  );
  for (const server of servers) {
    const r = results[server.name];
    console.log(
      `${server.label.padEnd(58)}${pad(r.c1.toFixed(2), 10)}${pad(r.c16.toFixed(2), 11)}` +
        `${pad(r.cpuSecondsPerGiB.c1.toFixed(2), 14)}${pad(r.cpuSecondsPerGiB.c16.toFixed(2), 7)}`,
    );
  }
  console.log(
    `${'Aloft / nginx throughput'.padEnd(58)}${pad(`${Math.round(ratio.c1 * 100)}%`, 10)}${pad(`${Math.round(ratio.c16 * 100)}%`, 11)}`,
  );
  console.log(`target: >= 80% of nginx -> ${ratio.c1 >= 0.8 && ratio.c16 >= 0.8 ? 'met' : 'NOT met'}\n`);
  console.log(
    JSON.stringify({
      bench: 'download',
      fileBytes: FILE_BYTES,
      tool,
      secondsPerRun: seconds,
      rounds,
      unit: 'GiB/s (best of rounds); cpuSecondsPerGiB is the median',
      results,
      ratioAloftToNginx: ratio,
      samples,
      machine,
    }),
  );
}

/** Compiles the route and the blob store from source into a cache directory Node can import from. */
async function buildAloft(work) {
  const out = join(work, 'build');
  const sources = [
    'packages/server/src/transport/http/download/download-route.ts',
    'packages/server/src/transport/http/download/download-url.ts',
    'packages/server/src/blobs/filesystem-blob-store.ts',
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
  // The compiled files import `fastify`: let them find the repo's dependencies, as ES modules.
  await symlink(join(repo, 'node_modules'), join(work, 'node_modules'), 'dir');
  await writeFile(join(work, 'package.json'), '{ "type": "module" }\n');
  const load = (path) => import(pathToFileURL(join(out, path)).href);
  const [{ FilesystemBlobStore }, { downloadRoute }, { signDownloadUrl }] = await Promise.all([
    load('blobs/filesystem-blob-store.js'),
    load('transport/http/download/download-route.js'),
    load('transport/http/download/download-url.js'),
  ]);
  const { default: Fastify } = await import('fastify');
  return { FilesystemBlobStore, downloadRoute, signDownloadUrl, Fastify };
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

/** Throughput downloading `url` over `connections` keep-alive connections for `duration` seconds. */
async function measure(url, connections, duration, haveWrk) {
  // Asynchronous on purpose: the Aloft server lives in this process and must keep serving meanwhile.
  if (!haveWrk) {
    const client = await run(process.execPath, [
      fileURLToPath(import.meta.url),
      '--node-client',
      url,
      connections,
      duration,
    ]);
    const [bytes, secondsTaken] = client.stdout.trim().split(' ').map(Number);
    return { gibPerSecond: round(bytes / secondsTaken / GIB, 2), bytes };
  }
  const threads = connections === 1 ? 1 : 2;
  const wrk = await run('wrk', [
    `-t${threads}`,
    `-c${connections}`,
    `-d${duration}s`,
    '--timeout',
    '30s',
    url,
  ]);
  const summary = /(\d+) requests in ([\d.]+)(m?s), ([\d.]+)([KMGT]?B) read/.exec(wrk.stdout);
  if (!summary) throw new Error(`unexpected wrk output:\n${wrk.stdout}\n${wrk.stderr}`);
  if (/Non-2xx|Socket errors/.test(wrk.stdout))
    console.error(`wrk reported errors for ${url}:\n${wrk.stdout}`);
  const [, , time, timeUnit, amount, amountUnit] = summary;
  const secondsTaken = Number(time) / (timeUnit === 'ms' ? 1000 : 1);
  // wrk prints binary units (1 GB = 2^30 bytes).
  const bytes = Number(amount) * 1024 ** ' KMGT'.indexOf(amountUnit.slice(0, -1) || ' ');
  return { gibPerSecond: round(bytes / secondsTaken / GIB, 2), bytes };
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

/** Fallback load generator: `connections` loops of keep-alive GETs; prints bytes per second. */
async function nodeClient(url, connections, duration) {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const deadline = Date.now() + duration * 1000;
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
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: connections }, loop));
  console.log(`${bytes} ${(Date.now() - started) / 1000}`);
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
