import { Child } from './child.js';

export interface LoadArgs {
  url: string;
  connections: number;
  seconds: number;
  headers: Record<string, string>;
}

/** autocannon's figures for one run; latencies in ms. */
export interface LoadResult {
  requests: number;
  perSecond: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  non2xx: number;
  errors: number;
}

/** autocannon in a child process of its own. */
export class LoadGenerator {
  private constructor(private readonly child: Child) {}

  static start(): LoadGenerator {
    return new LoadGenerator(Child.start(new URL('./load-process.ts', import.meta.url)));
  }

  run(args: LoadArgs): Promise<LoadResult> {
    return this.child.call('run', args);
  }

  stop(): Promise<void> {
    return this.child.stop();
  }
}
