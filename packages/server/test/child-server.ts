import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const SERVER_DIR = fileURLToPath(new URL('..', import.meta.url));
const DIST_ENTRY = join(SERVER_DIR, 'dist', 'index.js');

/**
 * Builds the server (and the protocol package it references) with `tsc -b`, so a child process can run it with
 * plain `node`: vitest transforms TypeScript in its own workers only, and tsx is not a dependency. Incremental,
 * so it costs a few seconds when nothing changed. A type error anywhere in the build fails the caller loudly
 * rather than running stale JavaScript.
 */
export async function buildServer(): Promise<void> {
  const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc');
  try {
    await promisify(execFile)(process.execPath, [tsc, '-b', SERVER_DIR], { timeout: 120_000 });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`tsc -b ${SERVER_DIR} failed:\n${stdout ?? ''}${stderr ?? ''}`);
  }
  if (!existsSync(DIST_ENTRY)) throw new Error(`the build did not produce ${DIST_ENTRY}`);
}

/** A port that was free a moment ago (bind port 0, read it, release it): the child binds it again. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', resolve);
  });
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (typeof address !== 'object' || !address) throw new Error('no port');
  return address.port;
}

/** The script the child runs: the built server, configured from ALOFT_* variables, announcing when it listens. */
async function writeEntry(dir: string): Promise<string> {
  const file = join(dir, 'serve.mjs');
  await writeFile(
    file,
    [
      `import { loadConfig, startServer } from ${JSON.stringify(pathToFileURL(DIST_ENTRY).href)};`,
      'const server = await startServer(loadConfig({ env: process.env }));',
      "process.stdout.write(JSON.stringify({ ready: true, httpUrl: server.httpUrl, mqtt: server.mqttAddress }) + '\\n');",
      "process.on('SIGTERM', () => server.close().then(() => process.exit(0)));",
      '',
    ].join('\n'),
  );
  return file;
}

/** The Aloft server in a child process, so a test can SIGKILL it. */
export class ChildServer {
  private output = '';
  private exited: Promise<NodeJS.Signals | number | null>;

  private constructor(
    private readonly child: ChildProcess,
    readonly httpUrl: string,
    readonly mqttUrl: string,
  ) {
    this.exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve(child.signalCode ?? child.exitCode);
      else child.once('exit', (code, signal) => resolve(signal ?? code));
    });
  }

  /** Starts the built server with these ALOFT_* settings and waits until it listens. */
  static async start(dir: string, env: Record<string, string>): Promise<ChildServer> {
    const entry = await writeEntry(dir);
    const child = spawn(process.execPath, [entry], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const ready = await new Promise<{ httpUrl: string; mqtt: string }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the server did not start:\n${output}`)), 30_000);
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString('utf8');
        const line = output.split('\n').find((l) => l.startsWith('{"ready":true'));
        if (line) {
          clearTimeout(timer);
          resolve(JSON.parse(line) as { httpUrl: string; mqtt: string });
        }
      });
      child.stderr?.on('data', (chunk: Buffer) => {
        output += chunk.toString('utf8');
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`the server exited (${signal ?? code}) before listening:\n${output}`));
      });
    });
    const server = new ChildServer(child, ready.httpUrl, ready.mqtt);
    server.output = output;
    child.stdout?.on('data', (chunk: Buffer) => {
      server.output += chunk.toString('utf8');
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      server.output += chunk.toString('utf8');
    });
    return server;
  }

  /** What the child logged (for failure messages). */
  get log(): string {
    return this.output;
  }

  /** `kill -9`: no shutdown hook runs, nothing is flushed. Resolves with the signal once it is gone. */
  async kill9(): Promise<NodeJS.Signals | number | null> {
    this.child.kill('SIGKILL');
    return this.exited;
  }

  /** A clean stop (SIGTERM), falling back to SIGKILL. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(timer);
  }
}
