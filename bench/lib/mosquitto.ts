import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const MOSQUITTO_BINARY = '/usr/sbin/mosquitto';

export interface MosquittoOptions {
  /** `max_queued_messages`: QoS 1 messages held per client beyond those in flight (Mosquitto's default 1,000). */
  maxQueued?: number;
  /** `max_inflight_messages`: QoS 1 messages sent to a client and not yet acknowledged (default 20). */
  maxInflight?: number;
}

/** A Mosquitto of the benchmark's own: on a free loopback port, no persistence, killed (by its pid) at the end. */
export interface PrivateMosquitto {
  url: string;
  pid: number;
  config: string;
  /** Resident memory of the broker process, bytes. */
  rss(): number;
  stop(): Promise<void>;
}

export function mosquittoInstalled(): boolean {
  return existsSync(MOSQUITTO_BINARY);
}

export async function startMosquitto(options: MosquittoOptions = {}): Promise<PrivateMosquitto> {
  const dir = await mkdtemp(join(tmpdir(), 'aloft-bench-mosquitto-'));
  // Mosquitto started as root drops to the `mosquitto` user, which must be able to read its config.
  await chmod(dir, 0o755);
  const port = await freePort();
  const config = [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    'persistence false',
    'log_dest none',
    ...(options.maxQueued !== undefined ? [`max_queued_messages ${options.maxQueued}`] : []),
    ...(options.maxInflight !== undefined ? [`max_inflight_messages ${options.maxInflight}`] : []),
  ].join('\n');
  const file = join(dir, 'mosquitto.conf');
  await writeFile(file, `${config}\n`, { mode: 0o644 });
  const child: ChildProcess = spawn(MOSQUITTO_BINARY, ['-c', file], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('mosquitto did not start');
  await waitForPort(port);
  return {
    url: `mqtt://127.0.0.1:${port}`,
    pid,
    config,
    rss: () => rssOf(pid),
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** VmRSS of a process from /proc, bytes. */
export function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  return Number(kb ?? 0) * 1024;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`mosquitto did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
