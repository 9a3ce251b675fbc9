import type { DeviceService } from './device-service.js';
import type { EventFeed } from './events/event-feed.js';
import type { WebhookService } from './events/webhook-service.js';
import type { FirmwareService } from './firmware-service.js';
import type { JobMonitor } from './jobs/job-monitor.js';
import type { JobService } from './jobs/job-service.js';
import type { ProductService } from './product-service.js';
import type { TokenService } from './token-service.js';

/** The use cases transports call. Assembled in main.ts; transports never see stores or drivers. */
export interface AppServices {
  products: ProductService;
  devices: DeviceService;
  firmware: FirmwareService;
  jobs: JobService;
  monitor: JobMonitor;
  tokens: TokenService;
  /** The upgrade event feed (SSE). */
  events: EventFeed;
  webhooks: WebhookService;
}
