/**
 * Child process: either the Aloft server (embedded broker + SQLite) or a bare aedes broker, so its memory can be
 * measured on its own. Run with --expose-gc. Driven by bench/memory.ts over IPC.
 */
import { createServer, type Server } from 'node:net';
import { Aedes } from 'aedes';
import type { RunningServer } from '../../packages/server/src/main.js';
import { serve } from './child.js';
import { type ProfileSummary, startCpuProfile } from './cpu-profile.js';

export interface StartArgs {
  kind: 'aloft' | 'aedes';
  dataDir: string;
}

export interface MemorySample {
  rss: number;
  heapUsed: number;
  external: number;
}

let aloft: RunningServer | undefined;
let bare: { aedes: Aedes; server: Server } | undefined;
let stopProfile: ((file: string) => Promise<ProfileSummary>) | undefined;

const gc = (globalThis as { gc?: () => void }).gc;

serve({
  async start(args: StartArgs): Promise<{ url: string }> {
    if (args.kind === 'aloft') {
      // Loaded only here, so bare aedes' idle figure holds no server code.
      const { loadConfig } = await import('../../packages/server/src/config/config.js');
      const { startServer } = await import('../../packages/server/src/main.js');
      aloft = await startServer(
        loadConfig({
          env: {},
          overrides: {
            httpHost: '127.0.0.1',
            httpPort: 0,
            mqttHost: '127.0.0.1',
            mqttPort: 0,
            dataDir: args.dataDir,
            adminToken: 'bench-admin-token-0123456789',
            logLevel: 'error',
          },
        }),
      );
      return { url: aloft.mqttAddress };
    }
    const aedes = await Aedes.createBroker({});
    const server = createServer(aedes.handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    bare = { aedes, server };
    const address = server.address();
    return { url: `mqtt://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}` };
  },

  /** Memory after full garbage collections, the median of three samples half a second apart. */
  async memory(): Promise<MemorySample> {
    const samples: MemorySample[] = [];
    for (let i = 0; i < 3; i++) {
      gc?.();
      gc?.();
      const { rss, heapUsed, external } = process.memoryUsage();
      samples.push({ rss, heapUsed, external });
      await new Promise((r) => setTimeout(r, 500));
    }
    samples.sort((a, b) => a.rss - b.rss);
    return samples[1]!;
  },

  /** Connected clients as the broker counts them. */
  clients(): number {
    if (aloft)
      return (
        (aloft.broker as unknown as { aedes?: { connectedClients: number } }).aedes?.connectedClients ?? -1
      );
    return bare?.aedes.connectedClients ?? 0;
  },

  async profileStart() {
    stopProfile = await startCpuProfile();
  },

  async profileStop(file: string): Promise<ProfileSummary | undefined> {
    const summary = await stopProfile?.(file);
    stopProfile = undefined;
    return summary;
  },

  async close() {
    await aloft?.close();
    if (bare) {
      const { aedes, server } = bare;
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  },
});
