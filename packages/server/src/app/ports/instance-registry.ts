/** A server instance as it registers itself in the database shared by every instance (scaled mode). */
export interface InstanceRecord {
  /** Unique per process start (the instance's MQTT client id). */
  id: string;
  /** Where it runs, for the operator reading the table. */
  host: string;
  startedAt: number;
}

/**
 * The instances sharing one database, each alive while it heartbeats. Liveness is judged on each instance's own clock
 * against the heartbeat times the others wrote, so the instances' clocks must agree to well within the timeout.
 */
export interface InstanceRegistry {
  /**
   * Records `self` alive at `now` (registering it again if it was forgotten), forgets the instances silent since
   * before `aliveSince`, and returns the ids of those alive, `self` included.
   */
  heartbeat(self: InstanceRecord, now: number, aliveSince: number): Promise<string[]>;
  /**
   * Removes the instance and returns the ids of the others alive, whose views may still count it until their next
   * heartbeat. Reading after the delete matters: an instance that registers later never counts this one.
   */
  deregister(id: string, aliveSince: number): Promise<string[]>;
}
