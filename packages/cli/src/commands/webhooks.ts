import { Command } from 'commander';
import type { CliIo } from '../cli-io.js';
import { formatTime } from '../output/format.js';
import { formatDetails, formatTable } from '../output/table.js';
import { addConnectionOptions, apiAction, pageFooter } from './api-command.js';
import { integer, list, parseId } from './option-parsers.js';

/** `aloft webhooks …`: subscribe URLs to upgrade events and inspect their deliveries. */
export function webhooksCommand(io: CliIo): Command {
  const webhooks = new Command('webhooks').description('Webhooks: upgrade events POSTed to your URL, signed');

  webhooks
    .command('create')
    .description('Subscribe a URL to upgrade events from now on (the signing secret is shown once)')
    .requiredOption('--url <url>', 'http(s) URL to POST events to')
    .option('--secret <secret>', 'HMAC key for X-Aloft-Signature (16-256 characters; default: generated)')
    .option('--job <id>', 'only events of this job', integer(1))
    .option('--states <states>', 'only transitions into these states, e.g. succeeded,failed,timed_out', list)
    .action(
      apiAction<{ url: string; secret?: string; job?: number; states?: string[] }>(io, async (s) => {
        const o = s.options;
        const hook = await s.api.webhooks.create({
          url: o.url,
          ...(o.secret ? { secret: o.secret } : {}),
          ...(o.job !== undefined ? { jobId: o.job } : {}),
          ...(o.states ? { states: o.states } : {}),
        });
        s.print(hook, () =>
          formatDetails([
            ['webhook', hook.id],
            ['url', hook.url],
            ['job', hook.jobId ?? 'every job'],
            ['states', hook.states.length ? hook.states.join(', ') : 'every event'],
            ['secret', hook.secret],
          ]),
        );
        if (!s.json) s.note('the secret is shown only this once');
      }),
    );

  webhooks
    .command('list')
    .description('List webhooks')
    .action(
      apiAction(io, async (s) => {
        const page = await s.api.webhooks.list();
        s.print(page, () =>
          formatTable(
            [
              { header: 'id', value: (w) => w.id, align: 'right' },
              { header: 'url', value: (w) => w.url },
              { header: 'job', value: (w) => w.jobId ?? 'all' },
              { header: 'states', value: (w) => (w.states.length ? w.states.join(',') : 'all') },
              { header: 'created', value: (w) => formatTime(w.createdAt) },
            ],
            page.items,
          ),
        );
      }),
    );

  webhooks
    .command('show <webhookId>')
    .description('A webhook with its deliveries per state')
    .action(
      apiAction(io, async (s, id) => {
        const hook = await s.api.webhooks.get(parseId(id, 'webhook id'));
        const d = hook.deliveries;
        s.print(hook, () =>
          formatDetails([
            ['webhook', hook.id],
            ['url', hook.url],
            ['job', hook.jobId ?? 'every job'],
            ['states', hook.states.length ? hook.states.join(', ') : 'every event'],
            ['deliveries', `${d.pending} pending, ${d.delivered} delivered, ${d.failed} failed`],
            ['last event queued', hook.cursor],
            ['created', formatTime(hook.createdAt)],
          ]),
        );
      }),
    );

  webhooks
    .command('delete <webhookId>')
    .description('Delete a webhook and its deliveries')
    .action(
      apiAction(io, async (s, id) => {
        const webhookId = parseId(id, 'webhook id');
        await s.api.webhooks.delete(webhookId);
        s.print({ deleted: webhookId }, () => `deleted webhook ${webhookId}`);
      }),
    );

  webhooks
    .command('deliveries <webhookId>')
    .description('Deliveries of a webhook, newest first: state, attempts, last status and error')
    .option('--state <state>', 'pending | delivered | failed')
    .option('--limit <n>', 'page size (1-1000)', integer(1, 1000), 50)
    .option('--offset <n>', 'skip this many', integer(0), 0)
    .action(
      apiAction<{ state?: string; limit: number; offset: number }>(io, async (s, id) => {
        const o = s.options;
        const page = await s.api.webhooks.deliveries(parseId(id, 'webhook id'), {
          state: o.state,
          limit: o.limit,
          offset: o.offset,
        });
        s.print(page, () =>
          [
            formatTable(
              [
                { header: 'id', value: (d) => d.id, align: 'right' },
                {
                  header: 'event',
                  value: (d) => (d.eventId === 0 ? d.eventType : `${d.eventType} #${d.eventId}`),
                },
                { header: 'state', value: (d) => d.state },
                { header: 'attempts', value: (d) => d.attempts, align: 'right' },
                { header: 'status', value: (d) => d.lastStatus, align: 'right' },
                { header: 'error', value: (d) => d.lastError },
                {
                  header: 'next attempt',
                  value: (d) => (d.state === 'pending' ? formatTime(d.nextAttemptAt) : null),
                },
                { header: 'created', value: (d) => formatTime(d.createdAt) },
              ],
              page.items,
            ),
            pageFooter(page.items.length, page.total, o.offset, 'delivery'),
          ].join('\n'),
        );
      }),
    );

  webhooks
    .command('test <webhookId>')
    .description('Queue a signed test ping')
    .action(
      apiAction(io, async (s, id) => {
        const delivery = await s.api.webhooks.test(parseId(id, 'webhook id'));
        s.print(delivery, () => `queued test delivery ${delivery.id} (${delivery.state})`);
      }),
    );

  webhooks
    .command('redeliver <webhookId> <deliveryId>')
    .description('Send a delivery again (it becomes pending with a fresh attempt count)')
    .action(
      apiAction(io, async (s, id, deliveryId) => {
        const delivery = await s.api.webhooks.redeliver(
          parseId(id, 'webhook id'),
          parseId(deliveryId, 'delivery id'),
        );
        s.print(delivery, () => `delivery ${delivery.id} queued again (${delivery.state})`);
      }),
    );

  return addConnectionOptions(webhooks);
}
