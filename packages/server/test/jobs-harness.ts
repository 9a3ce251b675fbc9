import { afterAll, beforeAll } from 'vitest';
import { startTestServer, type TestServer } from '../src/testing/test-server.js';
import { createFleet, FAST_ENGINE, type Fleet, type FleetOptions } from './jobs-fixture.js';

/** One server per mode for a jobs e2e file, and the fleets its tests create, all closed after the file. */
export interface JobsHarness {
  /** The server; only read it inside tests and hooks of an available mode. */
  readonly server: TestServer;
  fleet(options: FleetOptions): Promise<Fleet>;
}

export function useJobsServer(mode: {
  store: 'sqlite' | 'postgres';
  broker: 'embedded' | 'external';
  available: boolean;
}): JobsHarness {
  let server: TestServer | undefined;
  const fleets: Fleet[] = [];
  beforeAll(async () => {
    if (!mode.available) return;
    server = await startTestServer({ store: mode.store, broker: mode.broker, overrides: FAST_ENGINE });
  });
  afterAll(async () => {
    for (const f of fleets) await f.close();
    await server?.close();
  });
  return {
    get server() {
      if (!server) throw new Error('the jobs test server is not running');
      return server;
    },
    async fleet(options) {
      const f = await createFleet(this.server, options);
      fleets.push(f);
      return f;
    },
  };
}
