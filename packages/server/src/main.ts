import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { systemClock } from './app/clock.js';
import { DeviceAuthenticator } from './app/device-authenticator.js';
import { DeviceService } from './app/device-service.js';
import { EventFeed } from './app/events/event-feed.js';
import { WebhookService } from './app/events/webhook-service.js';
import { FirmwareService } from './app/firmware-service.js';
import { DeviceIngest } from './app/ingest/device-ingest.js';
import type { IngestBatchWritten } from './app/ingest/ingest-batch.js';
import { JobMonitor } from './app/jobs/job-monitor.js';
import { JobService } from './app/jobs/job-service.js';
import { UpgradeReporter } from './app/jobs/upgrade-reporter.js';
import type { DownloadUrls } from './app/ports/download-urls.js';
import { ProductService } from './app/product-service.js';
import type { AppServices } from './app/services.js';
import { TokenService } from './app/token-service.js';
import { FilesystemBlobStore } from './blobs/filesystem-blob-store.js';
import type { AloftConfig } from './config/config.js';
import { fetchWebhookSender } from './engine/fetch-webhook-sender.js';
import { RolloutEngine } from './engine/rollout-engine.js';
import { TickRunner } from './engine/tick-runner.js';
import { WebhookDispatcher } from './engine/webhook-dispatcher.js';
import { AloftMetrics } from './observability/metrics.js';
import { isDataError } from './store/constraint-errors.js';
import { openStore, redact, type Store } from './store/database.js';
import { DeviceStore } from './store/device-store.js';
import { EventFeedStore } from './store/event-feed-store.js';
import { FirmwareStore } from './store/firmware-store.js';
import { InstanceStore } from './store/instance-store.js';
import { JobStore } from './store/job-store.js';
import { ProductStore } from './store/product-store.js';
import { SettingsStore } from './store/settings-store.js';
import { TelemetryStore } from './store/telemetry-store.js';
import { TokenStore } from './store/token-store.js';
import { UpgradeStore } from './store/upgrade-store.js';
import { WebhookStore } from './store/webhook-store.js';
import { createDownloadResolver } from './transport/http/download/download-resolver.js';
import { type DownloadServedEvent, downloadRoute } from './transport/http/download/download-route.js';
import {
  createHmacDownloadUrlSigner,
  type DownloadUrlSigner,
} from './transport/http/download/download-url.js';
import { buildHttpServer } from './transport/http/http-server.js';
import type { BrokerLink } from './transport/mqtt/broker-link.js';
import { EmbeddedBroker } from './transport/mqtt/embedded-broker.js';
import { ExternalBroker } from './transport/mqtt/external-broker.js';
import { MqttGateway } from './transport/mqtt/gateway.js';
import { InstanceMembership } from './transport/mqtt/instance-membership.js';
import { MqttMessenger } from './transport/mqtt/mqtt-messenger.js';

/** A running Aloft server. */
export interface RunningServer {
  /** Base URL of the HTTP server (API, docs, downloads). */
  httpUrl: string;
  /** Where devices connect. */
  mqttAddress: string;
  /** Set only on the first start, when the admin token was just created: print it once. */
  newAdminToken: string | undefined;
  http: FastifyInstance;
  store: Store;
  broker: BrokerLink;
  engine: RolloutEngine;
  /** Stops taking messages, flushes pending writes, closes the broker and the database. */
  close(): Promise<void>;
}

/** Hooks for embedding and tests. */
export interface ServerHooks {
  /** Called once per download response (status, range served, whether it completed). */
  onDownload?: (event: DownloadServedEvent) => void;
  /**
   * Called once per ingest batch written to the database with its events handled by the rollout engine, with the
   * device messages it applied (not for a batch that failed). Runs on the ingest's path: keep it cheap.
   */
  onIngestBatch?: (written: IngestBatchWritten) => void;
}

/**
 * Ingest lanes when `ingestConcurrency` is not set (bench/ingest.ts, docs/benchmarks.md "Ingest"). SQLite writes
 * synchronously on one connection, so a second lane has nothing to overlap. On PostgreSQL each batch waits on a few
 * round trips; lanes overlap them, each holding one of the pool's 10 connections while it writes.
 */
const DEFAULT_INGEST_CONCURRENCY: Record<Store['dialect'], number> = { sqlite: 1, postgres: 3 };

/** Composition root: the only place that knows which store, broker and blob store are wired together. */
export async function startServer(config: AloftConfig, hooks: ServerHooks = {}): Promise<RunningServer> {
  const logger = pino({ level: config.logLevel, base: { service: 'aloft' } });
  const clock = systemClock;
  const metrics = new AloftMetrics();
  const databaseUrl = config.databaseUrl ?? join(config.dataDir, 'aloft.db');
  const store = await openStore({
    url: databaseUrl,
    ...(config.databaseSchema ? { schema: config.databaseSchema } : {}),
  });
  logger.info({ database: redact(databaseUrl), dialect: store.dialect }, 'database ready');
  const cleanup: (() => Promise<void>)[] = [() => store.close()];
  const closeAll = async () => {
    for (const step of cleanup.reverse())
      await step().catch((error: unknown) => logger.error({ err: error }, 'shutdown step failed'));
  };

  try {
    const products = new ProductStore(store.db);
    const devices = new DeviceStore(store.db, store.dialect);
    const telemetry = new TelemetryStore(store.db, store.dialect);
    const settings = new SettingsStore(store.db);
    const firmwareStore = new FirmwareStore(store.db);
    const jobStore = new JobStore(store.db);
    const upgrades = new UpgradeStore(store.db, store.dialect);
    const blobs = await FilesystemBlobStore.open({ root: join(config.dataDir, 'firmware') });
    // Shared by every instance through the database, so any of them can verify a URL another signed.
    const downloadSecret = await settings.getOrCreate('download_url_secret', () =>
      randomBytes(32).toString('hex'),
    );
    // The base URL is known once the HTTP server listens (port 0 in tests), unless configured.
    let signer: DownloadUrlSigner | undefined;
    const urls: DownloadUrls = {
      urlFor: (firmware, now) => {
        if (!signer) throw new Error('download URLs requested before the HTTP server listens');
        return signer.urlFor({ id: String(firmware.id), fileName: firmware.fileName }, new Date(now));
      },
    };

    const instanceId = `aloft-${randomBytes(6).toString('hex')}`;
    // External broker that does not share `$` topics: every instance receives them, so the instances register in the
    // database and split the devices between them (docs/operations.md). Joined before subscribing.
    const membership =
      config.mqttUrl && !config.mqttShareDollarTopics
        ? await InstanceMembership.join({
            registry: new InstanceStore(store.db),
            self: { id: instanceId, host: hostname() },
            heartbeatMs: config.instanceHeartbeatMs,
            clock,
            logger,
          })
        : undefined;
    if (membership) cleanup.push(() => membership.stop());
    const broker: BrokerLink = config.mqttUrl
      ? await ExternalBroker.connect({
          url: config.mqttUrl,
          ...(config.mqttUsername !== undefined ? { username: config.mqttUsername } : {}),
          ...(config.mqttPassword !== undefined ? { password: config.mqttPassword } : {}),
          shareGroup: config.mqttShareGroup,
          clientId: instanceId,
          dollarTopics: membership ? { shared: false, owner: membership } : { shared: true },
          logger,
        })
      : await EmbeddedBroker.start({
          host: config.mqttHost,
          port: config.mqttPort,
          authenticator: new DeviceAuthenticator(devices),
          metrics,
          logger,
        });
    cleanup.push(() => broker.close());
    if (broker.kind === 'embedded') await telemetry.markAllOffline();
    const messenger = new MqttMessenger(broker);

    const engine = new RolloutEngine({
      jobs: jobStore,
      upgrades,
      devices,
      firmware: firmwareStore,
      messenger,
      urls,
      logger,
      clock,
    });
    const runner = new TickRunner('rollout engine', engine, config.engineTickMs, logger);
    // Live events (docs/events.md): SSE streams and webhooks both read the upgrade_events feed.
    const eventFeed = new EventFeed(new EventFeedStore(store.db, store.dialect), {
      pollMs: config.eventPollMs,
      heartbeatMs: config.eventHeartbeatMs,
    });
    const webhookStore = new WebhookStore(store.db, store.dialect);
    const webhookRunner = new TickRunner(
      'webhook dispatcher',
      new WebhookDispatcher({
        webhooks: webhookStore,
        feed: eventFeed,
        sender: fetchWebhookSender,
        retry: {
          baseMs: config.webhookRetryBaseMs,
          maxMs: config.webhookRetryMaxMs,
          maxAttempts: config.webhookMaxAttempts,
        },
        timeoutMs: config.webhookTimeoutMs,
        logger,
        clock,
      }),
      config.webhookTickMs,
      logger,
    );
    const services: AppServices = {
      products: new ProductService(products, clock),
      devices: new DeviceService(devices, products, clock),
      tokens: new TokenService(new TokenStore(store.db), clock),
      firmware: new FirmwareService(
        firmwareStore,
        products,
        blobs,
        jobStore.usage(),
        clock,
        config.maxUploadBytes,
        urls,
      ),
      jobs: new JobService({
        jobs: jobStore,
        upgrades,
        devices,
        firmware: firmwareStore,
        clock,
        kick: () => runner.kick(),
        cancelActive: (job, now, message) => engine.cancelActive(job, now, message),
      }),
      monitor: new JobMonitor(upgrades, clock),
      events: eventFeed,
      webhooks: new WebhookService({
        webhooks: webhookStore,
        feed: eventFeed,
        jobs: jobStore,
        clock,
        kick: () => webhookRunner.kick(),
      }),
    };
    const newAdminToken = await services.tokens.ensureAdminToken(config.adminToken);

    const sink = new UpgradeReporter({
      jobs: jobStore,
      upgrades,
      firmware: firmwareStore,
      products,
      messenger,
      urls,
      logger,
      clock,
    });
    const ingest = new DeviceIngest({
      devices,
      telemetry,
      sink,
      metrics,
      logger,
      batchMs: config.ingestBatchMs,
      batchMax: config.ingestBatchMax,
      lanes: config.ingestConcurrency ?? DEFAULT_INGEST_CONCURRENCY[store.dialect],
      onBatchWritten: hooks.onIngestBatch,
      isDataError,
    });
    cleanup.push(() => ingest.close());
    await new MqttGateway({ broker, ingest, metrics, logger, clock }).start();

    let presenceSweep: NodeJS.Timeout | undefined;
    if (broker.kind === 'external') {
      const timeoutMs = config.presenceTimeoutSeconds * 1000;
      presenceSweep = setInterval(
        () => {
          telemetry
            .markSilentOffline(clock() - timeoutMs)
            .catch((error: unknown) => logger.warn({ err: error }, 'presence sweep failed'));
        },
        Math.min(timeoutMs, 30_000),
      );
      presenceSweep.unref();
      cleanup.push(async () => clearInterval(presenceSweep));
      // Runs before the ingest and the broker link close (cleanup is in reverse): this instance keeps handling its
      // devices until the others have taken them over.
      if (membership) cleanup.push(() => membership.leave());
    }

    const http = await buildHttpServer({
      services,
      metrics,
      logger,
      readiness: async () => {
        await store.db.selectFrom('settings').select('key').limit(1).execute();
        return broker.health();
      },
      devicePlugins: [
        async (app) =>
          app.register(downloadRoute, {
            secret: downloadSecret,
            onServed: (event) => {
              metrics.downloadServed(event.status, event.completed);
              hooks.onDownload?.(event);
            },
            // Firmware row + blob stat, remembered for a few seconds (see download-resolver.ts for why that is safe).
            resolve: createDownloadResolver({ firmware: firmwareStore, blobs }),
          }),
      ],
    });
    await http.listen({ host: config.httpHost, port: config.httpPort });
    cleanup.push(() => http.close());
    const bound = http.server.address();
    const port = typeof bound === 'object' && bound ? bound.port : config.httpPort;
    const host = config.httpHost === '0.0.0.0' || config.httpHost === '::' ? '127.0.0.1' : config.httpHost;
    const httpUrl = `http://${host}:${port}`;
    signer = createHmacDownloadUrlSigner({
      baseUrl: config.publicUrl ?? httpUrl,
      secret: downloadSecret,
      lifetimeSeconds: config.downloadUrlTtlSeconds,
    });
    runner.start();
    cleanup.push(() => runner.stop());
    webhookRunner.start();
    cleanup.push(() => webhookRunner.stop());
    logger.info({ http: httpUrl, mqtt: broker.address }, 'Aloft is running');

    return {
      httpUrl,
      mqttAddress: broker.address,
      newAdminToken,
      http,
      store,
      broker,
      engine,
      close: closeAll,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
