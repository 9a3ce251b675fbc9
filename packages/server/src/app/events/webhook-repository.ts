import type { UpgradeState } from '../../domain/index.js';

/** pending: waiting for its (next) attempt · delivered: a 2xx answer · failed: out of attempts. */
export type DeliveryState = 'pending' | 'delivered' | 'failed';

export const DELIVERY_STATES: readonly DeliveryState[] = ['pending', 'delivered', 'failed'];

/** A subscriber URL. The secret is not part of it: it is shown once, when created. */
export interface Webhook {
  id: number;
  url: string;
  /** Only events of this job; null = every job. */
  jobId: number | null;
  /** Only transitions into these states; empty = every event. */
  states: UpgradeState[];
  /** The last feed id already turned into deliveries. */
  cursor: number;
  createdAt: number;
}

export interface NewWebhook {
  url: string;
  secret: string;
  jobId: number | null;
  states: UpgradeState[];
}

/** One event to send to one webhook, and how sending it went. */
export interface WebhookDelivery {
  id: number;
  webhookId: number;
  /** The feed id of the event; 0 for a test ping. */
  eventId: number;
  /** The `type` of the body (`upgrade.state`, `ping`). */
  eventType: string;
  /** The exact JSON text that is sent and signed. */
  body: string;
  state: DeliveryState;
  attempts: number;
  /** When the next attempt is due (pending), or when the claim of the attempt in progress expires. */
  nextAttemptAt: number;
  /** HTTP status of the last attempt; null when it got no answer. */
  lastStatus: number | null;
  lastError: string | null;
  createdAt: number;
  deliveredAt: number | null;
}

/** A delivery claimed for one attempt, with what is needed to send it. */
export interface ClaimedDelivery {
  id: number;
  webhookId: number;
  eventType: string;
  body: string;
  /** Counting this attempt. */
  attempts: number;
  url: string;
  secret: string;
}

/** What an attempt decided. */
export type DeliveryOutcome =
  | { state: 'delivered'; status: number; at: number }
  | { state: 'pending'; status: number | null; error: string; retryAt: number }
  | { state: 'failed'; status: number | null; error: string };

export interface WebhookRepository {
  /** Creates a webhook whose feed starts after `cursor`. */
  create(input: NewWebhook, cursor: number, now: number): Promise<Webhook>;
  get(id: number): Promise<Webhook | undefined>;
  list(): Promise<Webhook[]>;
  /** Deletes the webhook and its deliveries; false when it did not exist. */
  remove(id: number): Promise<boolean>;
  deliveryCounts(webhookId: number): Promise<Record<DeliveryState, number>>;
  /** Newest first. */
  deliveries(
    webhookId: number,
    filter: { state?: DeliveryState; limit: number; offset: number },
  ): Promise<{ items: WebhookDelivery[]; total: number }>;
  /**
   * Moves the webhook's cursor from `from` to `to` and adds the deliveries, atomically. Returns false, adding
   * nothing, when the cursor is no longer `from` (another instance got there first), so no event is queued twice.
   */
  advance(
    webhookId: number,
    from: number,
    to: number,
    deliveries: readonly { eventId: number; body: string }[],
    now: number,
  ): Promise<boolean>;
  /** Adds a pending delivery outside the feed (a test ping), due now. */
  addDelivery(webhookId: number, eventId: number, body: string, now: number): Promise<WebhookDelivery>;
  /**
   * Claims up to `limit` pending deliveries due at `now` for one attempt: counts the attempt and hides them until
   * `now + leaseMs`, so no other instance sends them meanwhile (and a crashed sender's claim runs out).
   */
  claimDue(now: number, limit: number, leaseMs: number): Promise<ClaimedDelivery[]>;
  /** Records an attempt's outcome if the claim is still this one (same attempt count, still pending). */
  settle(deliveryId: number, attempts: number, outcome: DeliveryOutcome): Promise<boolean>;
  /** Makes a delivered or failed delivery pending again, due now, with a fresh attempt count. */
  redeliver(webhookId: number, deliveryId: number, now: number): Promise<WebhookDelivery | undefined>;
}
