import type { InstanceRecord, InstanceRegistry } from '../../../app/ports/instance-registry.js';

/** The instance registry in memory, with the store's semantics; `failing` makes every heartbeat throw. */
export class MemoryInstanceRegistry implements InstanceRegistry {
  readonly rows = new Map<string, InstanceRecord & { heartbeatAt: number }>();
  readonly calls: string[] = [];
  failing = false;

  async heartbeat(self: InstanceRecord, now: number, aliveSince: number): Promise<string[]> {
    this.calls.push(`heartbeat ${self.id}`);
    if (this.failing) throw new Error('database unreachable');
    this.rows.set(self.id, { ...(this.rows.get(self.id) ?? self), heartbeatAt: now });
    for (const [id, row] of this.rows) if (row.heartbeatAt < aliveSince) this.rows.delete(id);
    return [...this.rows.keys()];
  }

  async deregister(id: string, aliveSince: number): Promise<string[]> {
    this.calls.push(`deregister ${id}`);
    if (this.failing) throw new Error('database unreachable');
    this.rows.delete(id);
    return [...this.rows].filter(([, row]) => row.heartbeatAt >= aliveSince).map(([key]) => key);
  }
}
