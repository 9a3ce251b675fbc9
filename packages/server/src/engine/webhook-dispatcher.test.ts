import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventFeed } from '../app/events/event-feed.js';
import type { WebhookRequest, WebhookResponse, WebhookSender } from '../app/events/webhook-sender.js';
import { verifyWebhookSignature } from '../app/events/webhook-signature.js';
import { silentLogger } from '../app/ports/logger.js';
import type { Store } from '../store/database.js';
import { EventFeedStore } from '../store/event-feed-store.js';
import { type EventFixture, seedEventFixture } from '../store/testing/upgrade-event-fixture.js';
import { WebhookStore } from '../store/webhook-store.js';
import { type StoreFactory, storeFactories } from '../testing/test-stores.js';
import { WebhookDispatcher } from './webhook-dispatcher.js';

/** A receiver in memory: answers from a script (then 200), remembers every request. */
class ScriptedReceiver implements WebhookSender {
  requests: WebhookRequest[] = [];
  constructor(private readonly script: WebhookResponse[] = []) {}
  async send(request: WebhookRequest): Promise<WebhookResponse> {
    this.requests.push(request);
    return this.script.shift() ?? { status: 200 };
  }
}

const retry = { baseMs: 1000, maxMs: 4000, maxAttempts: 4 };

describe.each(storeFactories())('webhook dispatcher on $name', (factory: StoreFactory) => {
  let store: Store & { drop(): Promise<void> };
  let fx: EventFixture;
  let webhooks: WebhookStore;
  let feed: EventFeed;
  let now: number;

  const dispatcher = (sender: WebhookSender) =>
    new WebhookDispatcher({
      webhooks,
      feed,
      sender,
      retry,
      timeoutMs: 1000,
      logger: silentLogger,
      clock: () => now,
    });

  // Other transactions in a shared PostgreSQL can hold the feed back for a moment; these tests are not about that.
  const settled = () => feed.latestId();

  beforeEach(async () => {
    if (!factory.available) return;
    now = 1_700_000_000_000;
    store = await factory.open();
    fx = await seedEventFixture(store.db);
    webhooks = new WebhookStore(store.db, store.dialect);
    feed = new EventFeed(new EventFeedStore(store.db, store.dialect), { pollMs: 0, heartbeatMs: 1000 });
  });
  afterEach(async () => {
    if (factory.available) await store.drop();
  });

  it.skipIf(!factory.available)('sends each matching event once, signed, from the cursor on', async () => {
    const [d1] = fx.deviceIds;
    const [j1, j2] = fx.jobIds;
    const before = await fx.addEvent({ jobId: j1!, deviceId: d1!, to: 'queued' });
    const hook = await webhooks.create(
      { url: 'http://receiver/hook', secret: 'k', jobId: j1!, states: ['queued', 'failed'] },
      before,
      now,
    );
    const wanted = await fx.addEvent({ jobId: j1!, deviceId: d1!, to: 'queued' });
    await fx.addEvent({ jobId: j2!, deviceId: d1!, to: 'queued' });
    await fx.addEvent({ jobId: j1!, deviceId: d1!, from: 'queued', to: 'notified' });
    await settled();
    const receiver = new ScriptedReceiver();
    await dispatcher(receiver).tick();
    await dispatcher(receiver).tick();

    expect(receiver.requests).toHaveLength(1);
    const [request] = receiver.requests;
    expect(JSON.parse(request!.body)).toMatchObject({ id: wanted, type: 'upgrade.state', jobId: j1 });
    expect(request!.url).toBe('http://receiver/hook');
    expect(request!.headers['x-aloft-event']).toBe('upgrade.state');
    expect(verifyWebhookSignature('k', request!.body, request!.headers['x-aloft-signature'])).toBe(true);
    const [delivery] = (await webhooks.deliveries(hook.id, { limit: 10, offset: 0 })).items;
    expect(request!.headers['x-aloft-delivery']).toBe(String(delivery!.id));
    expect(delivery).toMatchObject({ state: 'delivered', attempts: 1, lastStatus: 200, deliveredAt: now });
  });

  it.skipIf(!factory.available)('retries with backoff and delivers on the third attempt', async () => {
    const hook = await webhooks.create(
      { url: 'http://receiver/hook', secret: 'k', jobId: null, states: [] },
      0,
      now,
    );
    await fx.addEvent({ jobId: fx.jobIds[0]!, deviceId: fx.deviceIds[0]!, to: 'queued' });
    await settled();
    const receiver = new ScriptedReceiver([{ status: 500 }, { error: 'ECONNRESET' }]);
    const d = dispatcher(receiver);
    const state = async () => (await webhooks.deliveries(hook.id, { limit: 1, offset: 0 })).items[0];

    await d.tick();
    expect(await state()).toMatchObject({
      state: 'pending',
      attempts: 1,
      lastStatus: 500,
      nextAttemptAt: now + 1000,
    });
    now += 999;
    await d.tick();
    expect(receiver.requests).toHaveLength(1);
    now += 1;
    await d.tick();
    expect(await state()).toMatchObject({
      state: 'pending',
      attempts: 2,
      lastStatus: null,
      lastError: 'ECONNRESET',
      nextAttemptAt: now + 2000,
    });
    now += 2000;
    await d.tick();
    expect(await state()).toMatchObject({
      state: 'delivered',
      attempts: 3,
      lastStatus: 200,
      lastError: null,
    });
    expect(new Set(receiver.requests.map((r) => r.body)).size).toBe(1);
    expect(receiver.requests.map((r) => r.headers['x-aloft-delivery'])).toEqual(
      Array(3).fill(String((await state())!.id)),
    );
  });

  it.skipIf(!factory.available)('marks a delivery failed after the last attempt', async () => {
    const hook = await webhooks.create(
      { url: 'http://receiver/hook', secret: 'k', jobId: null, states: [] },
      0,
      now,
    );
    await fx.addEvent({ jobId: fx.jobIds[0]!, deviceId: fx.deviceIds[0]!, to: 'queued' });
    await settled();
    const receiver = new ScriptedReceiver(Array(10).fill({ status: 503 }));
    const d = dispatcher(receiver);
    for (let i = 0; i < 6; i++) {
      await d.tick();
      now += retry.maxMs;
    }
    expect(receiver.requests).toHaveLength(retry.maxAttempts);
    expect(
      (await webhooks.deliveries(hook.id, { state: 'failed', limit: 5, offset: 0 })).items,
    ).toMatchObject([{ state: 'failed', attempts: 4, lastStatus: 503, lastError: 'HTTP 503' }]);
  });

  it.skipIf(!factory.available)('sends nothing twice when two dispatchers tick at once', async () => {
    await webhooks.create({ url: 'http://receiver/a', secret: 'k', jobId: null, states: [] }, 0, now);
    await webhooks.create({ url: 'http://receiver/b', secret: 'k', jobId: null, states: [] }, 0, now);
    for (let i = 0; i < 40; i++)
      await fx.addEvent({ jobId: fx.jobIds[i % 2]!, deviceId: fx.deviceIds[0]!, to: 'queued' });
    await settled();
    const receiver = new ScriptedReceiver();
    await Promise.all([
      dispatcher(receiver).tick(),
      dispatcher(receiver).tick(),
      dispatcher(receiver).tick(),
    ]);
    await dispatcher(receiver).tick();
    const sent = receiver.requests.map((r) => `${r.url} ${JSON.parse(r.body).id}`);
    expect(sent).toHaveLength(80);
    expect(new Set(sent).size).toBe(80);
  });
});
