/**
 * Child process: the Aloft server (embedded aedes + SQLite), so its 10,000 MQTT sockets and its download
 * sockets do not share the parent's open-file limit, and its CPU time and profile are its own.
 */
import { loadConfig } from '../../packages/server/src/config/config.js';
import { type RunningServer, startServer } from '../../packages/server/src/main.js';
import { serve } from '../lib/child.js';
import { profilerCommands } from '../lib/cpu-profile.js';

export interface ServerStartArgs {
  dataDir: string;
  adminToken: string;
  engineTickMs: number;
}

/** Server-side timestamps of one job (epoch ms), from the upgrades table. */
export interface JobTimeline {
  createdAt: number;
  upgrades: number;
  succeeded: number;
  firstNotifiedAt: number | null;
  lastNotifiedAt: number | null;
  lastFinishedAt: number | null;
}

let server: RunningServer | undefined;

function running(): RunningServer {
  if (!server) throw new Error('the server is not started');
  return server;
}

serve({
  async start(args: ServerStartArgs) {
    server = await startServer(
      loadConfig({
        env: {},
        overrides: {
          dataDir: args.dataDir,
          httpHost: '127.0.0.1',
          httpPort: 0,
          mqttHost: '127.0.0.1',
          mqttPort: 0,
          adminToken: args.adminToken,
          engineTickMs: args.engineTickMs,
          logLevel: 'warn',
        },
      }),
    );
    return { httpUrl: server.httpUrl, mqttAddress: server.mqttAddress };
  },
  cpu() {
    return process.cpuUsage();
  },
  ...profilerCommands(),
  async timeline(args: { jobId: number }): Promise<JobTimeline> {
    const db = running().store.db;
    const job = await db
      .selectFrom('jobs')
      .select('created_at')
      .where('id', '=', args.jobId)
      .executeTakeFirstOrThrow();
    const row = await db
      .selectFrom('upgrades')
      .where('job_id', '=', args.jobId)
      .select((eb) => [
        eb.fn.countAll<number>().as('upgrades'),
        eb.fn.sum<number>(eb.case().when('state', '=', 'succeeded').then(1).else(0).end()).as('succeeded'),
        eb.fn.min('notified_at').as('firstNotifiedAt'),
        eb.fn.max('notified_at').as('lastNotifiedAt'),
        eb.fn.max('finished_at').as('lastFinishedAt'),
      ])
      .executeTakeFirstOrThrow();
    return {
      createdAt: Number(job.created_at),
      upgrades: Number(row.upgrades),
      succeeded: Number(row.succeeded ?? 0),
      firstNotifiedAt: row.firstNotifiedAt === null ? null : Number(row.firstNotifiedAt),
      lastNotifiedAt: row.lastNotifiedAt === null ? null : Number(row.lastNotifiedAt),
      lastFinishedAt: row.lastFinishedAt === null ? null : Number(row.lastFinishedAt),
    };
  },
  async stop() {
    await server?.close();
    server = undefined;
  },
});
