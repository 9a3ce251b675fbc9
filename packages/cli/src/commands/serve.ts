import type { AloftConfig } from '@aloft/server';
import { Command } from 'commander';

/**
 * The server is loaded only when `serve` runs: it pulls in Fastify, the broker and the database drivers, which
 * would add about a second to every API command.
 */
const loadServer = () => import('@aloft/server');

interface ServeOptions {
  config?: string;
  httpPort?: string;
  mqttPort?: string;
  mqttUrl?: string;
  databaseUrl?: string;
  dataDir?: string;
  publicUrl?: string;
}

/** `aloft serve`: the server with, by default, an embedded broker, SQLite and files under ./data. */
export function serveCommand(): Command {
  return new Command('serve')
    .description('Run the Aloft server (embedded MQTT broker + SQLite unless told otherwise)')
    .option('-c, --config <file>', 'JSON config file (env vars ALOFT_* override it)')
    .option('--http-port <port>', 'HTTP port (API, console, downloads)')
    .option('--mqtt-port <port>', 'embedded MQTT broker port')
    .option('--mqtt-url <url>', 'use this external MQTT broker instead of the embedded one')
    .option('--database-url <url>', 'postgres://… or a SQLite file path')
    .option('--data-dir <dir>', 'where SQLite and firmware files live')
    .option('--public-url <url>', 'base URL devices download firmware from')
    .addHelpText(
      'after',
      '\nEvery setting can also be given as an env var: ALOFT_HTTP_PORT, ALOFT_MQTT_URL, … (see README).',
    )
    .action(async (options: ServeOptions) => {
      const { ConfigError, loadConfig } = await loadServer();
      let config: AloftConfig;
      try {
        config = loadConfig({
          ...(options.config ? { file: options.config } : {}),
          overrides: overridesFrom(options),
        });
      } catch (error) {
        if (error instanceof ConfigError) {
          console.error(error.message);
          process.exit(2);
        }
        throw error;
      }
      await serve(config);
    });
}

function overridesFrom(options: ServeOptions): Partial<AloftConfig> {
  const overrides: Record<string, unknown> = {};
  if (options.httpPort !== undefined) overrides.httpPort = options.httpPort;
  if (options.mqttPort !== undefined) overrides.mqttPort = options.mqttPort;
  if (options.mqttUrl !== undefined) overrides.mqttUrl = options.mqttUrl;
  if (options.databaseUrl !== undefined) overrides.databaseUrl = options.databaseUrl;
  if (options.dataDir !== undefined) overrides.dataDir = options.dataDir;
  if (options.publicUrl !== undefined) overrides.publicUrl = options.publicUrl;
  return overrides as Partial<AloftConfig>;
}

async function serve(config: AloftConfig): Promise<void> {
  const { BrokerPortInUseError, startServer } = await loadServer();
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer(config);
  } catch (error) {
    if (error instanceof BrokerPortInUseError) {
      console.error(error.message);
      process.exit(1);
    }
    console.error(`Aloft could not start: ${(error as Error).message}`);
    process.exit(1);
  }
  const lines = [
    '',
    `  Aloft is running`,
    `  API            ${server.httpUrl}`,
    `  API docs       ${server.httpUrl}/docs`,
    `  MQTT           ${server.mqttAddress}`,
  ];
  if (server.newAdminToken) {
    lines.push(
      `  Admin token    ${server.newAdminToken}`,
      '                 (shown once: keep it; the server stores only its hash)',
    );
  }
  console.log(`${lines.join('\n')}\n`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping (flushing pending writes)…`);
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
