export interface IngestLaneOptions<T> {
  /** Writes one batch. A rejection fails that batch only (see `failed`); the lane goes on with the next. */
  write(batch: T[]): Promise<void>;
  /** A batch the lane could not write. */
  failed(error: unknown, batch: T[]): void;
  /** At most this many items per batch. */
  batchMax: number;
}

/**
 * One sequential chain of batches: items queue here, at most one batch is being written, and batches are taken in
 * arrival order. While a batch is written the next one gathers, and is taken as soon as the write ends, so batches
 * grow with the database's latency instead of queueing up as many small ones.
 */
export class IngestLane<T> {
  private pending: T[] = [];
  private writing = false;
  private pushed = 0;
  private done = 0;
  private waiters: { upTo: number; resolve: () => void }[] = [];

  constructor(private readonly options: IngestLaneOptions<T>) {}

  /** Items waiting for a batch (not counting the one being written). */
  get waiting(): number {
    return this.pending.length;
  }

  push(item: T): void {
    this.pending.push(item);
    this.pushed++;
  }

  /** Starts writing what is waiting, unless a batch is being written: the lane then goes on by itself. */
  start(): void {
    if (this.writing || !this.pending.length) return;
    this.writing = true;
    void this.drain();
  }

  /** Resolves once every item pushed so far is written (or its batch failed). */
  settled(): Promise<void> {
    if (this.done >= this.pushed) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ upTo: this.pushed, resolve }));
  }

  private async drain(): Promise<void> {
    while (this.pending.length) {
      const batch = this.pending.splice(0, this.options.batchMax);
      try {
        await this.options.write(batch);
      } catch (error) {
        this.options.failed(error, batch);
      }
      this.done += batch.length;
      this.waiters = this.waiters.filter((w) => {
        if (w.upTo > this.done) return true;
        w.resolve();
        return false;
      });
    }
    this.writing = false;
  }
}
