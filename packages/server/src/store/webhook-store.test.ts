import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type StoreFactory, storeFactories } from '../testing/test-stores.js';
import type { Store } from './database.js';
import { WebhookStore } from './webhook-store.js';

const now = 1_700_000_000_000;
const body = (id: number) => JSON.stringify({ id, type: 'upgrade.state' });

describe.each(storeFactories())('webhook store on $name', (factory: StoreFactory) => {
  let store: Store & { drop(): Promise<void> };
  let webhooks: WebhookStore;
  let hookId: number;

  beforeEach(async () => {
    if (!factory.available) return;
    store = await factory.open();
    webhooks = new WebhookStore(store.db, store.dialect);
    hookId = (
      await webhooks.create(
        { url: 'http://127.0.0.1:9/hook', secret: 's3cret', jobId: null, states: ['failed'] },
        5,
        now,
      )
    ).id;
  });
  afterEach(async () => {
    if (factory.available) await store.drop();
  });

  it.skipIf(!factory.available)('keeps the secret out of the webhook record', async () => {
    const webhook = await webhooks.get(hookId);
    expect(webhook).toEqual({
      id: hookId,
      url: 'http://127.0.0.1:9/hook',
      jobId: null,
      states: ['failed'],
      cursor: 5,
      createdAt: now,
    });
    expect(webhook).not.toHaveProperty('secret');
    expect(await webhooks.list()).toEqual([webhook]);
  });

  it.skipIf(!factory.available)('queues events once when two instances advance the same cursor', async () => {
    const deliveries = [6, 7].map((id) => ({ eventId: id, body: body(id) }));
    const results = await Promise.all([
      webhooks.advance(hookId, 5, 7, deliveries, now),
      webhooks.advance(hookId, 5, 7, deliveries, now),
    ]);
    expect(results.filter(Boolean)).toHaveLength(1);
    expect((await webhooks.get(hookId))?.cursor).toBe(7);
    const listed = await webhooks.deliveries(hookId, { limit: 10, offset: 0 });
    expect(listed.total).toBe(2);
    expect(listed.items.map((d) => d.eventId)).toEqual([7, 6]);
    expect(listed.items[0]).toMatchObject({ state: 'pending', attempts: 0, eventType: 'upgrade.state' });
  });

  it.skipIf(!factory.available)(
    'hands each due delivery to one claimer and hides it for the lease',
    async () => {
      const deliveries = Array.from({ length: 30 }, (_, i) => ({ eventId: 6 + i, body: body(6 + i) }));
      await webhooks.advance(hookId, 5, 35, deliveries, now);
      const claims = await Promise.all([
        webhooks.claimDue(now, 20, 60_000),
        webhooks.claimDue(now, 20, 60_000),
        webhooks.claimDue(now, 20, 60_000),
      ]);
      const ids = claims.flat().map((c) => c.id);
      expect(ids).toHaveLength(30);
      expect(new Set(ids).size).toBe(30);
      expect(claims.flat()[0]).toMatchObject({
        attempts: 1,
        url: 'http://127.0.0.1:9/hook',
        secret: 's3cret',
      });
      expect(await webhooks.claimDue(now + 59_999, 50, 60_000)).toEqual([]);
      // A sender that died holding the claim: the delivery comes back when the lease runs out.
      expect(await webhooks.claimDue(now + 60_000, 50, 60_000)).toHaveLength(30);
    },
  );

  it.skipIf(!factory.available)('records an outcome only for the claim that is still current', async () => {
    const delivery = await webhooks.addDelivery(hookId, 0, '{"type":"ping"}', now);
    const [first] = await webhooks.claimDue(now, 10, 1000);
    const [second] = await webhooks.claimDue(now + 1000, 10, 1000);
    expect(second?.attempts).toBe(2);
    expect(
      await webhooks.settle(delivery.id, first!.attempts, { state: 'delivered', status: 200, at: now }),
    ).toBe(false);
    expect(
      await webhooks.settle(delivery.id, second!.attempts, {
        state: 'pending',
        status: 500,
        error: 'HTTP 500',
        retryAt: now + 5000,
      }),
    ).toBe(true);
    expect((await webhooks.deliveries(hookId, { limit: 1, offset: 0 })).items[0]).toMatchObject({
      eventType: 'ping',
      state: 'pending',
      attempts: 2,
      lastStatus: 500,
      lastError: 'HTTP 500',
      nextAttemptAt: now + 5000,
    });
    const [third] = await webhooks.claimDue(now + 5000, 10, 1000);
    await webhooks.settle(delivery.id, third!.attempts, {
      state: 'failed',
      status: null,
      error: 'ECONNREFUSED',
    });
    expect(await webhooks.deliveryCounts(hookId)).toEqual({ pending: 0, delivered: 0, failed: 1 });
    expect((await webhooks.deliveries(hookId, { state: 'failed', limit: 5, offset: 0 })).items).toMatchObject(
      [{ state: 'failed', attempts: 3, lastStatus: null, lastError: 'ECONNREFUSED' }],
    );

    const again = await webhooks.redeliver(hookId, delivery.id, now + 9000);
    expect(again).toMatchObject({ state: 'pending', attempts: 0, nextAttemptAt: now + 9000 });
    expect(await webhooks.claimDue(now + 9000, 10, 1000)).toHaveLength(1);
  });

  it.skipIf(!factory.available)('deletes a webhook with its deliveries', async () => {
    await webhooks.addDelivery(hookId, 0, '{"type":"ping"}', now);
    expect(await webhooks.remove(hookId)).toBe(true);
    expect(await webhooks.remove(hookId)).toBe(false);
    expect(await webhooks.claimDue(now, 10, 1000)).toEqual([]);
    expect(await store.db.selectFrom('webhook_deliveries').selectAll().execute()).toEqual([]);
  });
});
