/**
 * Child process: runs autocannon against the server, so the load generator's CPU is not the server's.
 * Driven by bench/lib/load.ts over IPC.
 */
import autocannon from 'autocannon';
import { serve } from './child.js';
import type { LoadArgs, LoadResult } from './load.js';

serve({
  async run(args: LoadArgs): Promise<LoadResult> {
    const result = await autocannon({
      url: args.url,
      connections: args.connections,
      duration: args.seconds,
      headers: args.headers,
      // Latency at a given concurrency, not a throughput race: one request per connection at a time.
      pipelining: 1,
    });
    return {
      requests: result.requests.total,
      perSecond: result.requests.average,
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
      non2xx: result.non2xx,
      errors: result.errors,
    };
  },
});
