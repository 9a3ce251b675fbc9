import { Command } from 'commander';
import { ConnectionError, type UpgradeEvent } from '../api/index.js';
import type { CliIo } from '../cli-io.js';
import { addConnectionOptions, apiAction } from './api-command.js';
import { formatUpgradeEvent } from './job-view.js';
import { integer } from './option-parsers.js';

/** How long to wait before reconnecting a dropped stream (what the server suggests with `retry:`). */
const RECONNECT_MS = 2000;

/** `aloft events`: follow the live upgrade events of every job, or one, as they happen. */
export function eventsCommand(io: CliIo): Command {
  const events = new Command('events')
    .description('Follow live upgrade events (SSE) until interrupted; reconnects without losing any')
    .option('--job <id>', 'only this job', integer(1))
    .option(
      '--after <eventId>',
      'start after this event id (0 = the whole history; default: from now on)',
      integer(0),
    )
    .option('--count <n>', 'stop after this many events', integer(1))
    .action(
      apiAction<{ job?: number; after?: number; count?: number }>(io, async (s) => {
        const { job, count } = s.options;
        let after = s.options.after;
        let printed = 0;
        let connected = false;
        for (;;) {
          const stop = new AbortController();
          let stream: AsyncGenerator<UpgradeEvent>;
          try {
            stream = await s.api.events.follow({ jobId: job, after }, stop.signal);
            connected = true;
          } catch (error) {
            // A refusal (bad token, unknown job) is final, and so is a server that was never reachable.
            if (!(error instanceof ConnectionError) || !connected) throw error;
            s.note(`${error.message}; retrying`);
            await io.sleep(RECONNECT_MS);
            continue;
          }
          try {
            for await (const event of stream) {
              // Resuming after the last event printed gives every later event exactly once.
              after = event.id;
              io.stdout.write(s.json ? `${JSON.stringify(event)}\n` : `${formatUpgradeEvent(event)}\n`);
              if (count !== undefined && ++printed >= count) return;
            }
          } catch {
            // The connection dropped mid-stream: reconnect below.
          } finally {
            stop.abort();
          }
          s.note(`event stream closed; reconnecting${after !== undefined ? ` after event ${after}` : ''}`);
          await io.sleep(RECONNECT_MS);
        }
      }),
    );
  return addConnectionOptions(events);
}
