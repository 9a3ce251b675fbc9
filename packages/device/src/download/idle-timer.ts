import { DownloadError } from './download-error.js';

/**
 * Aborts its signal when no byte arrived for `ms` (a stalled connection would otherwise hang for minutes).
 * `touch()` on every chunk only records the time: re-arming a timer per chunk would cost a timer operation per
 * 16–64 KiB; instead the one timer, when it fires, sleeps again for whatever is left of the quiet period.
 */
export class IdleTimer {
  readonly #controller = new AbortController();
  readonly #ms: number;
  #lastActivity = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(ms: number) {
    this.#ms = ms;
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Something arrived (or a request starts): the quiet period starts again. */
  touch(): void {
    this.#lastActivity = performance.now();
    this.#timer ??= setTimeout(() => this.#check(), this.#ms);
  }

  stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #check(): void {
    const quietFor = performance.now() - this.#lastActivity;
    if (quietFor >= this.#ms) {
      this.#timer = undefined;
      this.#controller.abort(new DownloadError('download_failed', `no data for ${this.#ms} ms`));
      return;
    }
    this.#timer = setTimeout(() => this.#check(), this.#ms - quietFor);
  }
}
