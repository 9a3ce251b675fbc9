import type { Clock } from '../app/clock.js';
import type { EventFeed } from '../app/events/event-feed.js';
import type { ClaimedDelivery, Webhook, WebhookRepository } from '../app/events/webhook-repository.js';
import { outcomeOf, type RetryPolicy } from '../app/events/webhook-retry.js';
import type { WebhookSender } from '../app/events/webhook-sender.js';
import { webhookRequestHeaders } from '../app/events/webhook-signature.js';
import type { Logger } from '../app/ports/logger.js';

export interface WebhookDispatcherDeps {
  webhooks: WebhookRepository;
  feed: EventFeed;
  sender: WebhookSender;
  retry: RetryPolicy;
  /** Per request. */
  timeoutMs: number;
  logger: Logger;
  clock: Clock;
  /** Deliveries claimed (and sent concurrently) at once. */
  batchSize?: number;
}

/** Most batches one tick sends, so a backlog cannot keep a tick (and shutdown) waiting for long. */
const BATCHES_PER_TICK = 10;

/**
 * The webhook dispatcher: one idempotent tick over the database — turn new feed events into pending deliveries
 * (per webhook, compare-and-set on its cursor), then send the deliveries that are due and record each outcome.
 * Nothing lives in memory between ticks; several instances can tick at once without queueing or sending twice.
 */
export class WebhookDispatcher {
  private readonly batchSize: number;

  constructor(private readonly deps: WebhookDispatcherDeps) {
    this.batchSize = deps.batchSize ?? 50;
  }

  async tick(): Promise<void> {
    await this.enqueueNewEvents();
    await this.sendDue();
  }

  /** Turns the events after each webhook's cursor into pending deliveries. */
  async enqueueNewEvents(): Promise<void> {
    for (const webhook of await this.deps.webhooks.list()) {
      try {
        await this.enqueueFor(webhook);
      } catch (error) {
        this.deps.logger.error({ err: error, webhook: webhook.id }, 'webhook enqueue failed');
      }
    }
  }

  private async enqueueFor(webhook: Webhook): Promise<void> {
    let cursor = webhook.cursor;
    for (;;) {
      const filter = { jobId: webhook.jobId ?? undefined, states: webhook.states };
      const { events, cursor: next } = await this.deps.feed.read(cursor, filter);
      if (next === cursor) return;
      const deliveries = events.map((e) => ({ eventId: e.id, body: JSON.stringify(e) }));
      // Lost the race: another instance queued these; it will queue what follows too.
      if (!(await this.deps.webhooks.advance(webhook.id, cursor, next, deliveries, this.deps.clock())))
        return;
      cursor = next;
      if (events.length < this.deps.feed.batchSize) return;
    }
  }

  /** Sends what is due, a batch at a time, each delivery of a batch concurrently. */
  async sendDue(): Promise<void> {
    // The claim outlives a request that runs into its timeout, so only a crashed sender's claim expires.
    const leaseMs = this.deps.timeoutMs * 2 + 5_000;
    for (let i = 0; i < BATCHES_PER_TICK; i++) {
      const claimed = await this.deps.webhooks.claimDue(this.deps.clock(), this.batchSize, leaseMs);
      await Promise.all(claimed.map((delivery) => this.attempt(delivery)));
      if (claimed.length < this.batchSize) return;
    }
  }

  private async attempt(delivery: ClaimedDelivery): Promise<void> {
    const { sender, webhooks, clock, retry, timeoutMs, logger } = this.deps;
    const response = await sender.send({
      url: delivery.url,
      headers: webhookRequestHeaders({ ...delivery, now: clock() }),
      body: delivery.body,
      timeoutMs,
    });
    const outcome = outcomeOf(response, delivery.attempts, clock(), retry);
    if (outcome.state !== 'delivered') {
      logger.warn(
        {
          webhook: delivery.webhookId,
          delivery: delivery.id,
          attempts: delivery.attempts,
          error: outcome.error,
        },
        outcome.state === 'failed'
          ? 'webhook delivery failed for good'
          : 'webhook delivery failed, will retry',
      );
    }
    try {
      await webhooks.settle(delivery.id, delivery.attempts, outcome);
    } catch (error) {
      // The claim runs out and the delivery is attempted again: at least once, never lost.
      logger.error({ err: error, delivery: delivery.id }, 'webhook delivery outcome not recorded');
    }
  }
}
