export interface IngestLaneOptions<T> {
  /**
   * Writes one batch, all or nothing. A rejection `splittable` allows is retried on each half of the batch, down to
   * single items, so
   * one item the database refuses (say, a device deleted while its messages were on the way) fails alone instead of
   * taking the other devices' messages with it; the halves are written in order.
   */
  write(batch: T[]): Promise<void>;
  /**
   * Whether a failed write may be split to isolate what failed: only for errors about the data. An outage fails the
   * batch at once instead of being retried item by item.
   */
  splittable(error: unknown): boolean;
  /** The items of a batch the lane could not write, and the last error; called once per batch taken. */
  failed(error: unknown, items: T[]): void;
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
      const failed: T[] = [];
      let lastError: unknown;
      await this.writeIsolating(batch, (error, item) => {
        failed.push(item);
        lastError = error;
      });
      if (failed.length) this.options.failed(lastError, failed);
      this.done += batch.length;
      this.waiters = this.waiters.filter((w) => {
        if (w.upTo > this.done) return true;
        w.resolve();
        return false;
      });
    }
    this.writing = false;
  }

  /** Writes `batch`, or, when that fails on its data, each half of it the same way; reports the items that fail. */
  private async writeIsolating(batch: T[], itemFailed: (error: unknown, item: T) => void): Promise<void> {
    try {
      await this.options.write(batch);
    } catch (error) {
      if (batch.length === 1 || !this.options.splittable(error)) {
        for (const item of batch) itemFailed(error, item);
        return;
      }
      const half = Math.ceil(batch.length / 2);
      await this.writeIsolating(batch.slice(0, half), itemFailed);
      await this.writeIsolating(batch.slice(half), itemFailed);
    }
  }
}
