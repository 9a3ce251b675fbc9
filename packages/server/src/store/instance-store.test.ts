import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type StoreFactory, storeFactories } from '../testing/test-stores.js';
import type { Store } from './database.js';
import { InstanceStore } from './instance-store.js';

const t0 = 1_700_000_000_000;
const TIMEOUT = 3000;
const record = (id: string, startedAt = t0) => ({ id, host: `host-${id}`, startedAt });
const sorted = (ids: string[]) => [...ids].sort();

describe.each(storeFactories())('instance registry on $name', (factory: StoreFactory) => {
  let store: Store & { drop(): Promise<void> };
  let instances: InstanceStore;

  beforeEach(async () => {
    if (!factory.available) return;
    store = await factory.open();
    instances = new InstanceStore(store.db);
  });
  afterEach(async () => {
    if (factory.available) await store.drop();
  });

  const rows = () => store.db.selectFrom('server_instances').selectAll().orderBy('id').execute();

  it.skipIf(!factory.available)('registers on the first heartbeat and refreshes on the next', async () => {
    expect(await instances.heartbeat(record('a'), t0, t0 - TIMEOUT)).toEqual(['a']);
    expect(await instances.heartbeat(record('a'), t0 + 1000, t0 + 1000 - TIMEOUT)).toEqual(['a']);
    expect(await rows()).toEqual([{ id: 'a', host: 'host-a', started_at: t0, heartbeat_at: t0 + 1000 }]);
  });

  it.skipIf(!factory.available)('returns every instance alive, itself included', async () => {
    await instances.heartbeat(record('b'), t0, t0 - TIMEOUT);
    await instances.heartbeat(record('c'), t0 + 10, t0 + 10 - TIMEOUT);
    expect(sorted(await instances.heartbeat(record('a'), t0 + 20, t0 + 20 - TIMEOUT))).toEqual([
      'a',
      'b',
      'c',
    ]);
  });

  it.skipIf(!factory.available)(
    'forgets an instance silent past the timeout, which comes back when it heartbeats',
    async () => {
      await instances.heartbeat(record('a'), t0, t0 - TIMEOUT);
      await instances.heartbeat(record('b', t0 - 5000), t0, t0 - TIMEOUT);
      // Alive up to and including the timeout.
      let now = t0 + TIMEOUT;
      expect(sorted(await instances.heartbeat(record('a'), now, now - TIMEOUT))).toEqual(['a', 'b']);
      now += 1;
      expect(await instances.heartbeat(record('a'), now, now - TIMEOUT)).toEqual(['a']);
      expect((await rows()).map((r) => r.id)).toEqual(['a']);
      // b was only stalled: its next heartbeat registers it again as it was.
      expect(sorted(await instances.heartbeat(record('b', t0 - 5000), now, now - TIMEOUT))).toEqual([
        'a',
        'b',
      ]);
      expect((await rows())[1]).toEqual({
        id: 'b',
        host: 'host-b',
        started_at: t0 - 5000,
        heartbeat_at: now,
      });
    },
  );

  it.skipIf(!factory.available)('deregisters, answering with the instances still alive', async () => {
    await instances.heartbeat(record('a'), t0, t0 - TIMEOUT);
    await instances.heartbeat(record('b'), t0, t0 - TIMEOUT);
    await instances.heartbeat(record('old'), t0 - 10_000, t0 - 10_000 - TIMEOUT);
    expect(await instances.deregister('b', t0 - TIMEOUT)).toEqual(['a']);
    expect(await instances.deregister('a', t0 - TIMEOUT)).toEqual([]);
    expect(await instances.deregister('a', t0 - TIMEOUT)).toEqual([]);
  });

  it.skipIf(!factory.available)('takes heartbeats from many instances at once', async () => {
    const ids = Array.from({ length: 8 }, (_, i) => `i${i}`);
    await Promise.all(ids.map((id) => instances.heartbeat(record(id), t0, t0 - TIMEOUT)));
    const seen = await Promise.all(
      ids.map((id) => instances.heartbeat(record(id), t0 + 5, t0 + 5 - TIMEOUT)),
    );
    for (const live of seen) expect(sorted(live)).toEqual(ids);
  });
});
