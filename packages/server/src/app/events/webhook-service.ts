import { randomBytes } from 'node:crypto';
import { UPGRADE_STATES, type UpgradeState } from '../../domain/index.js';
import { AloftError, aloftError } from '../../errors.js';
import type { Clock } from '../clock.js';
import type { JobRepository } from '../ports/job-repository.js';
import type { EventFeed } from './event-feed.js';
import { PING_EVENT } from './upgrade-state-event.js';
import type { DeliveryState, Webhook, WebhookDelivery, WebhookRepository } from './webhook-repository.js';

export interface CreateWebhookInput {
  url: string;
  /** Generated when absent; returned once. */
  secret?: string;
  jobId?: number;
  states?: UpgradeState[];
}

export interface WebhookServiceDeps {
  webhooks: WebhookRepository;
  feed: EventFeed;
  jobs: Pick<JobRepository, 'get'>;
  clock: Clock;
  /** Called when a delivery was added outside the feed, so the dispatcher sends it without waiting a tick. */
  kick?: () => void;
}

/** Managing webhooks and looking at their deliveries. The dispatcher does the sending. */
export class WebhookService {
  constructor(private readonly deps: WebhookServiceDeps) {}

  /** Subscribes a URL to the events from now on. The returned secret is not shown again. */
  async create(input: CreateWebhookInput): Promise<Webhook & { secret: string }> {
    const url = checkedUrl(input.url);
    if (input.jobId !== undefined && !(await this.deps.jobs.get(input.jobId)))
      throw aloftError('JOB_NOT_FOUND', input.jobId);
    const states = [...new Set(input.states ?? [])];
    const unknown = states.filter((s) => !UPGRADE_STATES.includes(s));
    if (unknown.length)
      throw new AloftError('VALIDATION', [`unknown upgrade state(s): ${unknown.join(', ')}`]);
    const secret = input.secret ?? randomBytes(32).toString('hex');
    // Starting at the settled id: every event that commits from now on is delivered, none from before.
    const cursor = await this.deps.feed.latestId();
    const webhook = await this.deps.webhooks.create(
      { url, secret, jobId: input.jobId ?? null, states },
      cursor,
      this.deps.clock(),
    );
    return { ...webhook, secret };
  }

  list(): Promise<Webhook[]> {
    return this.deps.webhooks.list();
  }

  /** A webhook with how many of its deliveries are pending, delivered and failed. */
  async get(id: number): Promise<Webhook & { deliveries: Record<DeliveryState, number> }> {
    const webhook = await this.find(id);
    return { ...webhook, deliveries: await this.deps.webhooks.deliveryCounts(id) };
  }

  async remove(id: number): Promise<void> {
    if (!(await this.deps.webhooks.remove(id))) throw aloftError('WEBHOOK_NOT_FOUND', id);
  }

  async deliveries(
    id: number,
    filter: { state?: DeliveryState; limit: number; offset: number },
  ): Promise<{ items: WebhookDelivery[]; total: number }> {
    await this.find(id);
    return this.deps.webhooks.deliveries(id, filter);
  }

  /** Queues a `ping` delivery, signed and retried like any other. */
  async test(id: number): Promise<WebhookDelivery> {
    await this.find(id);
    const now = this.deps.clock();
    const body = JSON.stringify({ type: PING_EVENT, webhookId: id, at: now });
    const delivery = await this.deps.webhooks.addDelivery(id, 0, body, now);
    this.deps.kick?.();
    return delivery;
  }

  /** Sends a delivered or failed delivery again, with a fresh attempt count. */
  async redeliver(id: number, deliveryId: number): Promise<WebhookDelivery> {
    await this.find(id);
    const delivery = await this.deps.webhooks.redeliver(id, deliveryId, this.deps.clock());
    if (!delivery) throw aloftError('WEBHOOK_NOT_FOUND', `${id} delivery ${deliveryId}`);
    this.deps.kick?.();
    return delivery;
  }

  private async find(id: number): Promise<Webhook> {
    const webhook = await this.deps.webhooks.get(id);
    if (!webhook) throw aloftError('WEBHOOK_NOT_FOUND', id);
    return webhook;
  }
}

/** Webhook URLs are absolute http(s) URLs; anything else (file:, javascript:, relative) is refused. */
function checkedUrl(input: string): string {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new AloftError('VALIDATION', [`webhook url is not a valid URL: ${input}`]);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !url.hostname)
    throw new AloftError('VALIDATION', [`webhook url must be http:// or https://, got ${url.protocol}`]);
  return url.toString();
}
