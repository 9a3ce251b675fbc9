import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import type { IngestMetrics } from '../app/ports/ingest-metrics.js';

/** Prometheus metrics of one server instance, served at /metrics. */
export class AloftMetrics implements IngestMetrics {
  readonly registry = new Registry();
  private readonly messages = new Counter({
    name: 'aloft_device_messages_total',
    help: 'Device messages received, by type',
    labelNames: ['type'],
    registers: [this.registry],
  });
  private readonly decodeErrors = new Counter({
    name: 'aloft_decode_errors_total',
    help: 'Device messages that could not be decoded, by dialect and reason',
    labelNames: ['dialect', 'code'],
    registers: [this.registry],
  });
  private readonly refusals = new Counter({
    name: 'aloft_device_messages_refused_total',
    help: 'Device messages or connections refused, by reason',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  private readonly batchSize = new Histogram({
    name: 'aloft_ingest_batch_size',
    help: 'Messages written per ingest batch',
    buckets: [1, 5, 20, 50, 100, 250, 500, 1000, 5000],
    registers: [this.registry],
  });
  private readonly dbSeconds = new Histogram({
    name: 'aloft_ingest_batch_write_seconds',
    help: 'Database time per ingest batch',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });

  private readonly downloads = new Counter({
    name: 'aloft_downloads_total',
    help: 'Firmware download responses, by status and whether the body was sent completely',
    labelNames: ['status', 'completed'],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'aloft_' });
  }

  messageIn(type: string): void {
    this.messages.inc({ type });
  }

  decodeError(dialect: string, code: string): void {
    this.decodeErrors.inc({ dialect, code });
  }

  refused(reason: string): void {
    this.refusals.inc({ reason });
  }

  downloadServed(status: number, completed: boolean): void {
    this.downloads.inc({ status: String(status), completed: String(completed) });
  }

  batchWritten(size: number, seconds: number): void {
    this.batchSize.observe(size);
    this.dbSeconds.observe(seconds);
  }
}
