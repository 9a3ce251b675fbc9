import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../app/ports/logger.js';
import { InstanceMembership } from './instance-membership.js';
import { MemoryInstanceRegistry } from './testing/memory-instance-registry.js';

const H = 1000;
/** Simulated time advances in steps of this; every check runs once per step. */
const STEP = 50;
const devices = Array.from({ length: 60 }, (_, i) => ({ productKey: 'PK00000001', deviceName: `d${i}` }));

type Change = { gap: number; kind: 'join'; id: number } | { gap: number; kind: 'leave'; pick: number };

interface Member {
  id: string;
  membership: InstanceMembership;
  nextBeat: number;
  leaving: boolean;
  /** When it closed its broker link: after leave() and the linger it asked for. */
  goneAt: number | undefined;
  lingerMs: number;
}

/**
 * Instances joining and leaving gracefully on one registry, each heartbeating every interval plus a delay (a slow
 * query, a busy event loop). Returns, per device, the fewest instances that handled it at any step, and how many
 * handle it once membership has been stable for a while.
 */
async function simulate(changes: Change[], delays: number[]) {
  const registry = new MemoryInstanceRegistry();
  let now = 0;
  let delayIndex = 0;
  const nextDelay = () => delays[delayIndex++ % delays.length]!;
  const members: Member[] = [];

  const join = async (id: string) => {
    const member: Member = {
      id,
      nextBeat: 0,
      leaving: false,
      goneAt: undefined,
      lingerMs: 0,
      membership: new InstanceMembership({
        registry,
        self: { id, host: 'sim' },
        heartbeatMs: H,
        clock: () => now,
        logger: silentLogger,
        sleep: async (ms) => {
          member.lingerMs = ms;
        },
      }),
    };
    // As at startup: the first heartbeat before the broker link subscribes.
    await member.membership.beat();
    member.nextBeat = now + H + nextDelay();
    members.push(member);
  };
  const present = () => members.filter((m) => m.goneAt === undefined || now < m.goneAt);
  const fewest = new Map(devices.map((d) => [d, Number.POSITIVE_INFINITY]));
  const step = async (check: boolean) => {
    for (const m of members) {
      if (m.leaving || now < m.nextBeat) continue;
      await m.membership.beat();
      m.nextBeat = now + H + nextDelay();
    }
    if (!check) return;
    const handling = present();
    for (const d of devices) {
      const owners = handling.filter((m) => m.membership.owns(d)).length;
      fewest.set(d, Math.min(fewest.get(d)!, owners));
    }
  };

  await join('i-000');
  for (const change of changes) {
    for (const end = now + change.gap; now < end; now += STEP) await step(true);
    if (change.kind === 'join') {
      await join(`i-${String(change.id).padStart(3, '0')}-${members.length}`);
    } else {
      const staying = members.filter((m) => !m.leaving);
      if (staying.length < 2) continue;
      const leaver = staying[change.pick % staying.length]!;
      leaver.leaving = true;
      await leaver.membership.leave();
      leaver.goneAt = now + leaver.lingerMs;
    }
  }
  for (const end = now + 6 * H; now < end; now += STEP) await step(true);
  const settled = devices.map((d) => present().filter((m) => m.membership.owns(d)).length);
  return { fewest: [...fewest.values()], settled };
}

const changes = fc.array(
  fc.oneof(
    fc.record({
      gap: fc.integer({ min: 0, max: 80 }).map((n) => n * STEP),
      kind: fc.constant('join' as const),
      id: fc.integer({ min: 1, max: 999 }),
    }),
    fc.record({
      gap: fc.integer({ min: 0, max: 80 }).map((n) => n * STEP),
      kind: fc.constant('leave' as const),
      pick: fc.nat(),
    }),
  ),
  { maxLength: 8 },
);
/** Heartbeats up to half an interval late (GRACE_BEATS). */
const delays = fc.array(
  fc.integer({ min: 0, max: 10 }).map((n) => n * STEP),
  { minLength: 1, maxLength: 10 },
);

describe('instances joining and leaving gracefully', () => {
  it('never leave a device without an instance, and settle on exactly one per device', async () => {
    await fc.assert(
      fc.asyncProperty(changes, delays, async (cs, ds) => {
        const { fewest, settled } = await simulate(cs, ds);
        expect(Math.min(...fewest)).toBeGreaterThanOrEqual(1);
        expect(settled.every((n) => n === 1)).toBe(true);
      }),
      { numRuns: 150 },
    );
  });
});
