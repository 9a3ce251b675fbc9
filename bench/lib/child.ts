import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Benchmarks put device fleets and reference brokers in child processes: one process holds at most ~19,900 sockets
 * here (open-file limit 20,000), and the server's figures must not include the load generator's CPU or memory.
 * Children talk over IPC with a tiny request/response protocol.
 */

interface Request {
  id: number;
  cmd: string;
  args: unknown;
}
type Response = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

export class Child {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private exited = false;

  private constructor(readonly process: ChildProcess) {
    process.on('message', (message: Response) => {
      const waiter = this.pending.get(message.id);
      if (!waiter) return;
      this.pending.delete(message.id);
      if (message.ok) waiter.resolve(message.result);
      else waiter.reject(new Error(message.error));
    });
    process.on('exit', (code, signal) => {
      this.exited = true;
      for (const waiter of this.pending.values())
        waiter.reject(new Error(`child exited (${code ?? signal}) before answering`));
      this.pending.clear();
    });
  }

  /** Forks a TypeScript module under tsx, resolving workspace packages from their sources like the parent. */
  static start(module: URL, execArgv: readonly string[] = []): Child {
    const child = fork(fileURLToPath(module), [], {
      execArgv: ['--import', import.meta.resolve('tsx'), '--conditions=source', ...execArgv],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new Child(child);
  }

  get pid(): number {
    return this.process.pid ?? -1;
  }

  call<T>(cmd: string, args: unknown = {}): Promise<T> {
    if (this.exited) return Promise.reject(new Error(`child ${this.pid} has exited`));
    const id = ++this.nextId;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.process.send({ id, cmd, args } satisfies Request);
    });
  }

  /** Asks the child to exit; kills it (by its own pid) if it has not within `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.process.once('exit', () => resolve()));
    this.process.disconnect();
    const timer = setTimeout(() => this.process.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
}

export type Handlers = Record<string, (args: never) => unknown>;

/** Child side: answers requests with the named handlers; exits when the parent disconnects. */
export function serve(handlers: Handlers): void {
  process.on('message', (message: Request) => {
    const handler = handlers[message.cmd] as ((args: unknown) => unknown) | undefined;
    const reply = (response: Response) => process.send?.(response);
    if (!handler) {
      reply({ id: message.id, ok: false, error: `unknown command ${message.cmd}` });
      return;
    }
    Promise.resolve()
      .then(() => handler(message.args))
      .then(
        (result) => reply({ id: message.id, ok: true, result }),
        (error: unknown) =>
          reply({ id: message.id, ok: false, error: error instanceof Error ? error.message : String(error) }),
      );
  });
  process.on('disconnect', () => process.exit(0));
}
