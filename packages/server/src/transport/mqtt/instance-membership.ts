import type { DeviceRef } from '@aloft/protocol';
import type { Clock } from '../../app/clock.js';
import type { InstanceRecord, InstanceRegistry } from '../../app/ports/instance-registry.js';
import type { Logger } from '../../app/ports/logger.js';
import { type PartitionState, PartitionView } from './partition-view.js';

/** An instance silent for this many heartbeat intervals is dead: the others stop counting it. */
export const DEAD_AFTER_BEATS = 3;
/**
 * After a change, the previous assignment's devices stay ours for this many intervals. Every instance refreshes its
 * view within an interval and a heartbeat's duration; twice that covers two changes in quick succession (a rolling
 * restart: one instance joins as another leaves), and the third absorbs heartbeats up to half an interval late.
 */
export const GRACE_BEATS = 3;
/**
 * Our own view is this many intervals old: a heartbeat failed. Fewer than DEAD_AFTER_BEATS, so this instance handles
 * everything before the others drop it and move its devices.
 */
export const STALE_AFTER_BEATS = 2;
/**
 * On a graceful leave, how long this instance keeps handling its devices after deregistering: as long as the others
 * keep a previous assignment, for the same reasons. Skipped when no other instance is alive.
 */
export const LINGER_BEATS = GRACE_BEATS;

export interface InstanceMembershipOptions {
  registry: InstanceRegistry;
  self: Omit<InstanceRecord, 'startedAt'>;
  heartbeatMs: number;
  clock: Clock;
  logger: Logger;
  /** Resolves after `ms`; a timer unless a test passes its own. */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * This instance's membership among the server instances sharing the database: it heartbeats, derives from the live
 * set which devices it owns, and hands them over on shutdown. The external broker link asks it about the messages
 * the broker delivers to every instance (topics starting with `$`, which Mosquitto does not share).
 */
export class InstanceMembership {
  private readonly view: PartitionView;
  private readonly record: InstanceRecord;
  private timer: NodeJS.Timeout | undefined;
  private beating: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly options: InstanceMembershipOptions) {
    this.record = { ...options.self, startedAt: options.clock() };
    this.view = new PartitionView(options.self.id, {
      graceMs: GRACE_BEATS * options.heartbeatMs,
      staleAfterMs: STALE_AFTER_BEATS * options.heartbeatMs,
    });
  }

  /** Registers, takes the first view (throws when the database cannot be reached), then heartbeats periodically. */
  static async join(options: InstanceMembershipOptions): Promise<InstanceMembership> {
    const membership = new InstanceMembership(options);
    await membership.heartbeat();
    membership.schedule();
    return membership;
  }

  /** Whether this instance handles the device's messages on topics every instance receives. */
  owns(device: DeviceRef): boolean {
    return this.view.owns(device, this.options.clock());
  }

  state(): PartitionState {
    return this.view.state(this.options.clock());
  }

  /**
   * One heartbeat, then the view refreshed. A failure is logged, not thrown: once the view is stale this instance
   * handles every device until a heartbeat succeeds again.
   */
  async beat(): Promise<void> {
    if (this.stopped) return;
    const beating = this.heartbeat().catch((error: unknown) =>
      this.options.logger.warn(
        { err: error, instance: this.record.id },
        'instance heartbeat failed: if it keeps failing, this instance handles every device on `$` topics',
      ),
    );
    this.beating = beating;
    await beating;
    if (this.beating === beating) this.beating = undefined;
  }

  /**
   * Graceful shutdown, while the broker link and the ingest still run: stops heartbeating, deregisters, then keeps
   * handling its devices until the others have taken them over.
   */
  async leave(): Promise<void> {
    if (this.stopped) return;
    const counted = await this.deregister();
    this.view.freeze();
    if (!counted) return;
    const lingerMs = LINGER_BEATS * this.options.heartbeatMs;
    this.options.logger.info(
      { instance: this.record.id, lingerMs },
      'instance deregistered: handing its devices on `$` topics over to the other instances',
    );
    await (this.options.sleep ?? sleep)(lingerMs);
  }

  /** Stops heartbeating and deregisters, without lingering (a failed start). Safe to call again. */
  async stop(): Promise<void> {
    await this.deregister();
  }

  /** Stops heartbeating and deregisters; returns whether other instances may still count this one. */
  private async deregister(): Promise<boolean> {
    if (this.stopped) return false;
    this.stopped = true;
    clearTimeout(this.timer);
    // A heartbeat still in flight would register this instance again after the delete.
    await this.beating;
    const { registry, clock, heartbeatMs, logger } = this.options;
    try {
      const live = await registry.deregister(this.record.id, clock() - DEAD_AFTER_BEATS * heartbeatMs);
      return live.some((id) => id !== this.record.id);
    } catch (error) {
      logger.warn(
        { err: error, instance: this.record.id },
        'instance not deregistered: the others count it dead after the heartbeat timeout',
      );
      return this.view.instances.length > 1;
    }
  }

  private async heartbeat(): Promise<void> {
    const { registry, clock, heartbeatMs, logger } = this.options;
    const now = clock();
    const live = await registry.heartbeat(this.record, now, now - DEAD_AFTER_BEATS * heartbeatMs);
    // Dated when it arrives: the grace after a change then runs from when this instance started acting on it.
    const changed = this.view.observe(live, clock());
    if (changed) {
      logger.info(
        { instance: this.record.id, index: changed.index, instances: changed.instances },
        `instance membership changed: this instance handles 1/${changed.instances.length} of the devices on \`$\` topics`,
      );
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    // The next heartbeat one interval after this one ended: they never overlap.
    this.timer = setTimeout(() => void this.beat().then(() => this.schedule()), this.options.heartbeatMs);
    // Shutdown goes through stop(); a forgotten membership must not keep the process alive.
    this.timer.unref();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
