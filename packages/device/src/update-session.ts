import type { UpgradeTask } from '@aloft/protocol';
import type { UpdateResult } from './ota-device-options.js';
import type { UpdateError } from './update-error.js';

/**
 * One package being updated (one module + version). The server re-pushes the task with a freshly signed URL
 * whenever the device reconnects or reports its old version; those pushes are `offer`ed to the running session
 * instead of starting a second download, and wake a session waiting to retry.
 */
export class UpdateSession {
  /** The newest push of the task: its URL is the freshest. */
  task: UpgradeTask;
  readonly module: string;
  readonly version: string;
  readonly promise: Promise<UpdateResult>;
  readonly #controller = new AbortController();
  #offers = 0;
  readonly #waiters = new Set<() => void>();

  constructor(task: UpgradeTask, run: (session: UpdateSession) => Promise<UpdateResult>) {
    this.task = task;
    this.module = task.module;
    this.version = task.version;
    this.promise = run(this);
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** How many fresh pushes arrived so far; compare before and after a wait. */
  get offers(): number {
    return this.#offers;
  }

  /** A fresh push of the same package. */
  offer(task: UpgradeTask): void {
    this.task = task;
    this.#offers++;
    for (const wake of this.#waiters) wake();
  }

  /** Stops the session at its next step boundary; the session rejects with `reason`. */
  abort(reason: UpdateError): void {
    this.#controller.abort(reason);
  }

  /**
   * Waits up to `ms` for a fresh push; resolves early when one arrives or the session is aborted.
   * Returns whether a push newer than `since` (an `offers` count) arrived.
   */
  async waitForOffer(ms: number, since = this.#offers): Promise<boolean> {
    if (this.#offers > since || this.signal.aborted) return this.#offers > since;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        this.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#waiters.add(done);
      this.signal.addEventListener('abort', done);
    });
    return this.#offers > since;
  }
}
