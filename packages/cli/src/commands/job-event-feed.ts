import type { AloftApi, UpgradeEvent } from '../api/index.js';

/** How many of the latest events `jobs watch` shows under its summary. */
const KEEP = 5;

/**
 * Follows a job's live event stream (SSE) in the background, so `jobs watch` redraws the moment a device moves
 * instead of at its next poll. Optional by design: a server without the stream, or a dropped stream, leaves
 * `jobs watch` polling as before.
 */
export class JobEventFeed {
  /** The latest events, oldest first. */
  readonly recent: UpgradeEvent[] = [];
  readonly #stop = new AbortController();
  #wake: (() => void) | undefined;
  #next: Promise<void> | undefined;
  #open = true;
  /** An event arrived while nobody was waiting. */
  #unseen = false;

  private constructor() {}

  /** Opens the feed; undefined when the server offers no event stream (or it cannot be opened). */
  static async open(api: AloftApi, jobId: number): Promise<JobEventFeed | undefined> {
    const feed = new JobEventFeed();
    try {
      const events = await api.events.follow({ jobId }, feed.#stop.signal);
      void feed.#consume(events);
      return feed;
    } catch {
      return undefined;
    }
  }

  /**
   * Resolves at the next event, or at once if one arrived since the last call; never, once the stream has ended
   * (the caller's poll timer takes over).
   */
  next(): Promise<void> {
    if (this.#unseen) {
      this.#unseen = false;
      return Promise.resolve();
    }
    if (!this.#open) return new Promise(() => {});
    this.#next ??= new Promise((resolve) => {
      this.#wake = resolve;
    });
    return this.#next;
  }

  close(): void {
    this.#open = false;
    this.#stop.abort();
  }

  async #consume(events: AsyncGenerator<UpgradeEvent>): Promise<void> {
    try {
      for await (const event of events) {
        this.recent.push(event);
        if (this.recent.length > KEEP) this.recent.shift();
        const wake = this.#wake;
        this.#next = undefined;
        this.#wake = undefined;
        if (wake) wake();
        else this.#unseen = true;
      }
    } catch {
      // Dropped or aborted: polling carries on without it.
    } finally {
      this.#open = false;
    }
  }
}
