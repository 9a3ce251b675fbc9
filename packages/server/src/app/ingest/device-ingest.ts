import type { DeviceMessage, DeviceRef, Dialect } from '@aloft/protocol';
import { laneOf } from './device-lane.js';
import {
  type IngestBatchDeps,
  type IngestBatchWritten,
  type Pending,
  writeIngestBatch,
} from './ingest-batch.js';
import { IngestLane } from './ingest-lane.js';

export interface DeviceIngestOptions extends IngestBatchDeps {
  /** How long to gather messages before writing them (ms). 0 = next tick. */
  batchMs: number;
  /** Write as soon as this many messages are waiting in a lane. */
  batchMax: number;
  /**
   * How many batches may be written at once: devices are spread over this many lanes, each writing its batches one
   * after another. Each lane in flight holds one database connection.
   */
  lanes: number;
  /**
   * Called once a batch is written and the sink has handled its events; never for a batch that failed. For
   * embedders that count what is done (bench/ingest.ts), so they need not poll the database.
   */
  onBatchWritten?: (written: IngestBatchWritten) => void;
  /**
   * Whether the database refused a batch for its data (a constraint, a value), so that writing it in parts can
   * isolate the messages at fault; the store's `isDataError`.
   */
  isDataError: (error: unknown) => boolean;
}

/**
 * The ingest path: gathers decoded device messages for a few milliseconds and writes them in one statement per
 * batch (per-message statements would cap throughput far below the broker's; see architecture.md), then hands the
 * resolved events to the rollout engine. Devices are resolved per batch in one query, so there is no cache to go stale.
 *
 * A batch to PostgreSQL is a few round trips during which the database and the pool would otherwise sit idle, so
 * several lanes write at once. A device always lands in the same lane: its messages and presence changes are
 * written, and reach the sink, in the order they arrived.
 */
export class DeviceIngest {
  private readonly lanes: IngestLane<Pending>[];
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: DeviceIngestOptions) {
    const { logger } = options;
    this.lanes = Array.from(
      { length: Math.max(1, options.lanes) },
      () =>
        new IngestLane<Pending>({
          write: async (batch) => {
            const written = await writeIngestBatch(options, batch);
            options.onBatchWritten?.(written);
          },
          // Failed messages must not stop the ingest; devices re-report versions on every reconnect.
          splittable: options.isDataError,
          failed: (error, items) =>
            logger.error({ err: error, messages: items.length }, 'device messages not written'),
          batchMax: options.batchMax,
        }),
    );
  }

  /** Decoded messages from one device. */
  accept(dialect: Dialect, device: DeviceRef, messages: DeviceMessage[], at: number): void {
    for (const m of messages) this.options.metrics.messageIn(m.kind);
    this.enqueue({ kind: 'messages', dialect, device, messages, at });
  }

  /** A device connected or disconnected (embedded broker), or its session ended. */
  presence(device: DeviceRef, online: boolean, at: number): void {
    this.enqueue({ kind: 'presence', device, online, at });
  }

  /** Writes everything queued so far; resolves when all of it is in the database (or its batch failed). */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    for (const lane of this.lanes) lane.start();
    await Promise.all(this.lanes.map((lane) => lane.settled()));
  }

  /** Stops taking messages and writes what is pending. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  private enqueue(item: Pending): void {
    if (this.closed) return;
    const lane = this.lanes[laneOf(item.device, this.lanes.length)]!;
    lane.push(item);
    if (lane.waiting >= this.options.batchMax) lane.start();
    else this.timer ??= setTimeout(() => this.startAll(), this.options.batchMs);
  }

  private startAll(): void {
    this.timer = undefined;
    for (const lane of this.lanes) lane.start();
  }
}
