import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../app/ports/logger.js';
import { partitionOf } from './device-partition.js';
import {
  DEAD_AFTER_BEATS,
  GRACE_BEATS,
  InstanceMembership,
  type InstanceMembershipOptions,
  LINGER_BEATS,
  STALE_AFTER_BEATS,
} from './instance-membership.js';
import { MemoryInstanceRegistry } from './testing/memory-instance-registry.js';

const H = 1000;
const devices = Array.from({ length: 100 }, (_, i) => ({ productKey: 'PK00000001', deviceName: `d${i}` }));

/** Instances on one registry and one fake clock; nothing runs on timers. */
function cluster() {
  const registry = new MemoryInstanceRegistry();
  const slept: number[] = [];
  const logged: string[] = [];
  let now = 1_000_000;
  const options = (id: string): InstanceMembershipOptions => ({
    registry,
    self: { id, host: 'test-host' },
    heartbeatMs: H,
    clock: () => now,
    logger: { ...silentLogger, info: (_obj, msg) => logged.push(msg ?? '') },
    sleep: async (ms) => {
      slept.push(ms);
    },
  });
  return {
    registry,
    slept,
    logged,
    advance: (ms: number) => {
      now += ms;
    },
    now: () => now,
    /** Heartbeats every interval, each instance in turn, until the grace after the last change has passed. */
    async settle(...members: InstanceMembership[]) {
      for (let i = 0; i <= GRACE_BEATS; i++) {
        now += H;
        for (const m of members) await m.beat();
      }
    },
    /** A started instance without its heartbeat timer: the test calls `beat()`. */
    async start(id: string) {
      const membership = new InstanceMembership(options(id));
      await membership.beat();
      return membership;
    },
    options,
  };
}

const owned = (m: InstanceMembership) => devices.filter((d) => m.owns(d));

describe('InstanceMembership', () => {
  const joined: InstanceMembership[] = [];
  afterEach(async () => {
    for (const m of joined.splice(0)) await m.stop();
  });

  it('registers on join, heartbeats, and handles every device while alone', async () => {
    const c = cluster();
    const a = await InstanceMembership.join(c.options('a'));
    joined.push(a);
    expect([...c.registry.rows.keys()]).toEqual(['a']);
    expect(c.registry.rows.get('a')).toMatchObject({ host: 'test-host', heartbeatAt: c.now() });
    expect(owned(a)).toHaveLength(devices.length);
    expect(c.logged).toEqual([
      'instance membership changed: this instance handles 1/1 of the devices on `$` topics',
    ]);
  });

  it('fails to join when the database cannot be reached', async () => {
    const c = cluster();
    c.registry.failing = true;
    await expect(InstanceMembership.join(c.options('a'))).rejects.toThrow('database unreachable');
  });

  it('splits the devices once both instances have seen each other', async () => {
    const c = cluster();
    const a = await c.start('a');
    c.advance(300);
    const b = await c.start('b');
    // a has not heartbeaten since b joined: it still handles everything, b its half.
    expect(owned(a)).toHaveLength(devices.length);
    expect(owned(b)).toEqual(devices.filter((d) => partitionOf(d, 2) === 1));
    c.advance(700);
    await a.beat();
    expect(a.state()).toMatchObject({ instances: 2, index: 0, inGrace: true });
    expect(owned(a)).toHaveLength(devices.length);
    await c.settle(a, b);
    expect(a.state()).toEqual({ instances: 2, index: 0, inGrace: false, stale: false });
    for (const d of devices) expect([a, b].filter((m) => m.owns(d))).toHaveLength(1);
  });

  it('takes over the devices of an instance that stopped heartbeating, once it is dead', async () => {
    const c = cluster();
    const a = await c.start('a');
    const b = await c.start('b');
    await c.settle(a, b);
    expect(owned(a).length).toBeLessThan(devices.length);
    // b crashes: its row stays until it is older than the timeout.
    for (let beat = 1; beat <= DEAD_AFTER_BEATS; beat++) {
      c.advance(H);
      await a.beat();
    }
    expect(a.state().instances).toBe(2);
    c.advance(H);
    await a.beat();
    expect(a.state().instances).toBe(1);
    expect([...c.registry.rows.keys()]).toEqual(['a']);
    expect(owned(a)).toHaveLength(devices.length);
    expect(b.state().instances).toBe(2);
  });

  it('handles every device while its heartbeats fail, and its share again once one succeeds', async () => {
    const c = cluster();
    const a = await c.start('a');
    const b = await c.start('b');
    await c.settle(a, b);
    const share = owned(a);
    expect(share.length).toBeLessThan(devices.length);
    c.registry.failing = true;
    c.advance(H);
    await a.beat();
    expect(owned(a)).toEqual(share);
    c.advance((STALE_AFTER_BEATS - 1) * H + 1);
    expect(a.state().stale).toBe(true);
    expect(owned(a)).toHaveLength(devices.length);
    c.registry.failing = false;
    await b.beat();
    await a.beat();
    expect(a.state().stale).toBe(false);
    expect(owned(a)).toEqual(share);
  });

  it('on leave, deregisters and keeps handling its devices for the linger time', async () => {
    const c = cluster();
    const a = await c.start('a');
    const b = await c.start('b');
    await c.settle(a, b);
    const share = owned(b);
    await b.leave();
    expect(c.slept).toEqual([LINGER_BEATS * H]);
    expect([...c.registry.rows.keys()]).toEqual(['a']);
    // Frozen: however long the linger takes, b keeps exactly its share and never heartbeats again.
    c.advance(10 * H);
    expect(owned(b)).toEqual(share);
    const calls = c.registry.calls.length;
    await b.beat();
    expect(c.registry.calls.length).toBe(calls);
    // a sees b gone at its next heartbeat: it handles b's devices from then on.
    await a.beat();
    expect(owned(a)).toHaveLength(devices.length);
  });

  it('does not linger when it was the only instance', async () => {
    const c = cluster();
    const a = await c.start('a');
    await a.leave();
    expect(c.slept).toEqual([]);
    expect(c.registry.rows.size).toBe(0);
  });

  it('deregisters only after the heartbeat in flight, so that it does not register again', async () => {
    const c = cluster();
    const a = await c.start('a');
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const heartbeat = c.registry.heartbeat.bind(c.registry);
    c.registry.heartbeat = async (...args) => {
      await gate;
      return heartbeat(...args);
    };
    const beating = a.beat();
    const stopping = a.stop();
    release();
    await Promise.all([beating, stopping]);
    expect(c.registry.calls.slice(-2)).toEqual(['heartbeat a', 'deregister a']);
    expect(c.registry.rows.size).toBe(0);
    await a.stop();
    expect(c.registry.calls.filter((call) => call === 'deregister a')).toHaveLength(1);
  });
});
