import { delay } from './abortable.js';

/**
 * Spaces out connection attempts to at most `perSecond`, so thousands of simulated devices do not hit the
 * broker (and its authentication) in one storm. Slots are handed out in call order.
 */
export class ConnectPacer {
  readonly #intervalMs: number;
  #next = 0;

  constructor(perSecond: number) {
    if (!(perSecond > 0)) throw new RangeError('the connect rate must be above 0 per second');
    this.#intervalMs = 1000 / perSecond;
  }

  /** Resolves when the caller may connect; rejects with `signal.reason` when the signal aborts first. */
  slot(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const now = performance.now();
    const at = Math.max(now, this.#next);
    this.#next = at + this.#intervalMs;
    return delay(at - now, signal);
  }
}
