import type { Kysely, Selectable } from 'kysely';
import type {
  ClaimedDelivery,
  DeliveryOutcome,
  DeliveryState,
  NewWebhook,
  Webhook,
  WebhookDelivery,
  WebhookRepository,
} from '../app/events/webhook-repository.js';
import type { UpgradeState } from '../domain/index.js';
import { chunked } from './constraint-errors.js';
import type { StoreDialect } from './database.js';
import type { Database, WebhookDeliveryTable, WebhookTable } from './schema.js';

const WEBHOOK_COLUMNS = ['id', 'url', 'job_id', 'events', 'cursor', 'created_at'] as const;

function toWebhook(row: Pick<Selectable<WebhookTable>, (typeof WEBHOOK_COLUMNS)[number]>): Webhook {
  return {
    id: Number(row.id),
    url: row.url,
    jobId: row.job_id === null ? null : Number(row.job_id),
    states: JSON.parse(row.events) as UpgradeState[],
    cursor: Number(row.cursor),
    createdAt: Number(row.created_at),
  };
}

/** The body's `type`, so each attempt can name its event without another column. */
function typeOf(body: string): string {
  try {
    const type = (JSON.parse(body) as { type?: unknown }).type;
    return typeof type === 'string' ? type : 'unknown';
  } catch {
    return 'unknown';
  }
}

function toDelivery(row: Selectable<WebhookDeliveryTable>): WebhookDelivery {
  return {
    id: Number(row.id),
    webhookId: Number(row.webhook_id),
    eventId: Number(row.event_id),
    eventType: typeOf(row.body),
    body: row.body,
    state: row.state as DeliveryState,
    attempts: row.attempts,
    nextAttemptAt: Number(row.next_attempt_at),
    lastStatus: row.last_status,
    lastError: row.last_error,
    createdAt: Number(row.created_at),
    deliveredAt: row.delivered_at === null ? null : Number(row.delivered_at),
  };
}

/**
 * Webhooks and their deliveries. Queueing is compare-and-set on the webhook's cursor and sending claims rows (with
 * `FOR UPDATE SKIP LOCKED` on PostgreSQL), so several server instances never queue or send an event twice.
 */
export class WebhookStore implements WebhookRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: StoreDialect,
  ) {}

  async create(input: NewWebhook, cursor: number, now: number): Promise<Webhook> {
    const row = await this.db
      .insertInto('webhooks')
      .values({
        url: input.url,
        secret: input.secret,
        job_id: input.jobId,
        events: JSON.stringify(input.states),
        cursor,
        created_at: now,
      })
      .returning(WEBHOOK_COLUMNS)
      .executeTakeFirstOrThrow();
    return toWebhook(row);
  }

  async get(id: number): Promise<Webhook | undefined> {
    const row = await this.db
      .selectFrom('webhooks')
      .select(WEBHOOK_COLUMNS)
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toWebhook(row);
  }

  async list(): Promise<Webhook[]> {
    const rows = await this.db.selectFrom('webhooks').select(WEBHOOK_COLUMNS).orderBy('id').execute();
    return rows.map(toWebhook);
  }

  async remove(id: number): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      // Explicitly, not only by the foreign key's cascade: it holds whatever SQLite's foreign_keys pragma says.
      await trx.deleteFrom('webhook_deliveries').where('webhook_id', '=', id).execute();
      const result = await trx.deleteFrom('webhooks').where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    });
  }

  async deliveryCounts(webhookId: number): Promise<Record<DeliveryState, number>> {
    const rows = await this.db
      .selectFrom('webhook_deliveries')
      .select((eb) => ['state', eb.fn.countAll<number>().as('n')])
      .where('webhook_id', '=', webhookId)
      .groupBy('state')
      .execute();
    const counts: Record<DeliveryState, number> = { pending: 0, delivered: 0, failed: 0 };
    for (const row of rows) counts[row.state as DeliveryState] = Number(row.n);
    return counts;
  }

  async deliveries(
    webhookId: number,
    filter: { state?: DeliveryState; limit: number; offset: number },
  ): Promise<{ items: WebhookDelivery[]; total: number }> {
    let base = this.db.selectFrom('webhook_deliveries').where('webhook_id', '=', webhookId);
    if (filter.state) base = base.where('state', '=', filter.state);
    const [rows, count] = await Promise.all([
      base.selectAll().orderBy('id', 'desc').limit(filter.limit).offset(filter.offset).execute(),
      base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items: rows.map(toDelivery), total: Number(count.n) };
  }

  async advance(
    webhookId: number,
    from: number,
    to: number,
    deliveries: readonly { eventId: number; body: string }[],
    now: number,
  ): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      // The update takes the row lock first: a second instance with the same `from` waits, then matches nothing.
      const moved = await trx
        .updateTable('webhooks')
        .set({ cursor: to })
        .where('id', '=', webhookId)
        .where('cursor', '=', from)
        .executeTakeFirst();
      if (Number(moved.numUpdatedRows) === 0) return false;
      for (const part of chunked(deliveries, 200)) {
        await trx
          .insertInto('webhook_deliveries')
          .values(
            part.map((d) => ({
              webhook_id: webhookId,
              event_id: d.eventId,
              body: d.body,
              state: 'pending',
              attempts: 0,
              next_attempt_at: now,
              created_at: now,
            })),
          )
          .execute();
      }
      return true;
    });
  }

  async addDelivery(webhookId: number, eventId: number, body: string, now: number): Promise<WebhookDelivery> {
    const row = await this.db
      .insertInto('webhook_deliveries')
      .values({
        webhook_id: webhookId,
        event_id: eventId,
        body,
        state: 'pending',
        attempts: 0,
        next_attempt_at: now,
        created_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toDelivery(row);
  }

  async claimDue(now: number, limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
    if (limit <= 0) return [];
    const claimed = await this.db.transaction().execute(async (trx) => {
      let select = trx
        .selectFrom('webhook_deliveries')
        .select('id')
        .where('state', '=', 'pending')
        .where('next_attempt_at', '<=', now)
        .orderBy('next_attempt_at')
        .orderBy('id')
        .limit(limit);
      // Two instances claiming at once each get different rows: locked ones are skipped, not waited for.
      if (this.dialect === 'postgres') select = select.forUpdate().skipLocked();
      const ids = (await select.execute()).map((r) => Number(r.id));
      if (!ids.length) return [];
      return trx
        .updateTable('webhook_deliveries')
        .set((eb) => ({ attempts: eb('attempts', '+', 1), next_attempt_at: now + leaseMs }))
        .where('id', 'in', ids)
        .where('state', '=', 'pending')
        .where('next_attempt_at', '<=', now)
        .returning(['id', 'webhook_id', 'body', 'attempts'])
        .execute();
    });
    if (!claimed.length) return [];
    const hooks = await this.db
      .selectFrom('webhooks')
      .select(['id', 'url', 'secret'])
      .where('id', 'in', [...new Set(claimed.map((c) => Number(c.webhook_id)))])
      .execute();
    const byId = new Map(hooks.map((h) => [Number(h.id), h]));
    const result: ClaimedDelivery[] = [];
    for (const row of claimed.sort((a, b) => Number(a.id) - Number(b.id))) {
      const hook = byId.get(Number(row.webhook_id));
      // Deleted between the claim and now: its deliveries went with it.
      if (!hook) continue;
      result.push({
        id: Number(row.id),
        webhookId: Number(row.webhook_id),
        eventType: typeOf(row.body),
        body: row.body,
        attempts: row.attempts,
        url: hook.url,
        secret: hook.secret,
      });
    }
    return result;
  }

  async settle(deliveryId: number, attempts: number, outcome: DeliveryOutcome): Promise<boolean> {
    const result = await this.db
      .updateTable('webhook_deliveries')
      .set(
        outcome.state === 'delivered'
          ? { state: 'delivered', last_status: outcome.status, last_error: null, delivered_at: outcome.at }
          : outcome.state === 'pending'
            ? { last_status: outcome.status, last_error: outcome.error, next_attempt_at: outcome.retryAt }
            : { state: 'failed', last_status: outcome.status, last_error: outcome.error },
      )
      .where('id', '=', deliveryId)
      .where('attempts', '=', attempts)
      .where('state', '=', 'pending')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async redeliver(webhookId: number, deliveryId: number, now: number): Promise<WebhookDelivery | undefined> {
    await this.db
      .updateTable('webhook_deliveries')
      .set({ state: 'pending', attempts: 0, next_attempt_at: now, delivered_at: null })
      .where('id', '=', deliveryId)
      .where('webhook_id', '=', webhookId)
      .where('state', 'in', ['delivered', 'failed'])
      .execute();
    const row = await this.db
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('id', '=', deliveryId)
      .where('webhook_id', '=', webhookId)
      .executeTakeFirst();
    return row && toDelivery(row);
  }
}
