import type { DeviceRef } from '@aloft/protocol';
import { partitionOf } from './device-partition.js';

/** This instance's place among the live instances, as one heartbeat saw them. */
export interface Assignment {
  /** Live instance ids, sorted. */
  readonly instances: readonly string[];
  /** This instance's position in `instances`. */
  readonly index: number;
}

export interface PartitionTiming {
  /**
   * After the live set changes, the devices of the previous assignment stay ours this long too: the other instances
   * see the change at their own next heartbeat, and until they do, some of them still follow the old assignment.
   */
  graceMs: number;
  /**
   * A view older than this (heartbeats failing) is no longer trusted: the others may count this instance dead and
   * move its devices while it cannot see that, so it handles every device until a heartbeat succeeds.
   */
  staleAfterMs: number;
}

/** What the view says now, for logs and tests. */
export interface PartitionState {
  instances: number;
  /** Undefined before the first view. */
  index: number | undefined;
  /** Still also handling a previous assignment's devices. */
  inGrace: boolean;
  /** No recent view: handling every device. */
  stale: boolean;
}

/**
 * Which devices this instance handles, from the live instances its heartbeats see. Pure: time is passed in.
 *
 * When in doubt it handles: before the first view, when the view is stale, and for `graceMs` after a change, where it
 * takes both the old and the new assignment. A device message is then handled twice rather than by nobody.
 */
export class PartitionView {
  private current: Assignment | undefined;
  private viewedAt = Number.NEGATIVE_INFINITY;
  private previous: { assignment: Assignment; until: number }[] = [];
  private frozen = false;

  constructor(
    private readonly self: string,
    private readonly timing: PartitionTiming,
  ) {}

  /** A heartbeat at `at` found these instances alive. Returns the new assignment when it changed. */
  observe(live: readonly string[], at: number): Assignment | undefined {
    if (this.frozen) return undefined;
    this.viewedAt = at;
    this.previous = this.previous.filter((p) => p.until > at);
    // This instance is alive whatever the registry said: counting itself in errs towards handling twice.
    const instances = [...new Set([...live, this.self])].sort();
    if (this.current && sameInstances(this.current.instances, instances)) return undefined;
    if (this.current) this.previous.push({ assignment: this.current, until: at + this.timing.graceMs });
    this.current = { instances, index: instances.indexOf(this.self) };
    return this.current;
  }

  /**
   * No more views will come (this instance deregistered and is handing over): keep the last one as it is, without
   * turning stale, until the broker link closes.
   */
  freeze(): void {
    this.frozen = true;
  }

  owns(device: DeviceRef, now: number): boolean {
    const current = this.current;
    if (!current || this.isStale(now)) return true;
    if (ownsUnder(current, device)) return true;
    return this.previous.some((p) => p.until > now && ownsUnder(p.assignment, device));
  }

  /** The live instances of the current view, this one included (none before the first view). */
  get instances(): readonly string[] {
    return this.current?.instances ?? [];
  }

  state(now: number): PartitionState {
    return {
      instances: this.current?.instances.length ?? 0,
      index: this.current?.index,
      inGrace: this.previous.some((p) => p.until > now),
      stale: !this.current || this.isStale(now),
    };
  }

  private isStale(now: number): boolean {
    return !this.frozen && now - this.viewedAt > this.timing.staleAfterMs;
  }
}

function ownsUnder(assignment: Assignment, device: DeviceRef): boolean {
  return partitionOf(device, assignment.instances.length) === assignment.index;
}

function sameInstances(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}
