import { readEventStream } from './event-stream-reader.js';
import type { HttpClient } from './http-client.js';
import { encodeMultipart, type MultipartPart } from './multipart-encoder.js';
import type {
  BatchJobInput,
  CreatedToken,
  CreatedWebhook,
  CursorPage,
  DeliveryQuery,
  Device,
  DeviceDetail,
  DeviceInput,
  DeviceListJobInput,
  DeviceQuery,
  DeviceUpgradeStatus,
  Dialect,
  EventStreamQuery,
  ExternalFirmwareInput,
  Firmware,
  FirmwareQuery,
  FirmwareUploadFields,
  ImportResult,
  Job,
  JobDetail,
  JobDevicesQuery,
  JobOptions,
  JobQuery,
  Page,
  Product,
  RegisteredDevice,
  SingleJobInput,
  UpgradeEvent,
  UpgradeRow,
  UpgradeWithTransitions,
  VerifyJobInput,
  VersionCount,
  Webhook,
  WebhookDelivery,
  WebhookDetail,
  WebhookInput,
} from './types.js';

/** A file to upload: its bytes arrive through `content`, which the upload reads once, as it sends. */
export interface UploadFile {
  fileName: string;
  size: number;
  content: AsyncIterable<Uint8Array>;
}

/** A firmware file being downloaded: read `body` to the end (or cancel it). */
export interface FirmwareDownload {
  fileName: string | undefined;
  size: number | undefined;
  body: ReadableStream<Uint8Array>;
}

const seg = encodeURIComponent;

/**
 * The typed management API, one group of methods per resource. Commands use only this, so it can later be
 * backed by the OpenAPI-generated client without touching them.
 */
export class AloftApi {
  constructor(readonly http: HttpClient) {}

  readonly products = {
    create: (input: { key: string; name: string; dialect: Dialect; signing?: boolean }) =>
      this.http.json<Product>('POST', '/products', { json: input }),
    list: () => this.http.json<Product[]>('GET', '/products'),
    get: (productKey: string) => this.http.json<Product>('GET', `/products/${seg(productKey)}`),
    versions: (productKey: string, module?: string) =>
      this.http.json<VersionCount[]>('GET', `/products/${seg(productKey)}/versions`, { query: { module } }),
  };

  readonly devices = {
    add: (productKey: string, input: DeviceInput) =>
      this.http.json<RegisteredDevice>('POST', `/products/${seg(productKey)}/devices`, { json: input }),
    /** All or nothing: CSV text (header `name,secret,tags`, tags `;`-separated) or a list of devices. */
    import: (productKey: string, devices: { csv: string } | { devices: DeviceInput[] }) =>
      this.http.json<ImportResult>(
        'POST',
        `/products/${seg(productKey)}/devices/import`,
        'csv' in devices
          ? { body: { contentType: 'text/csv', data: devices.csv } }
          : { json: { devices: devices.devices } },
      ),
    list: (productKey: string, query: DeviceQuery = {}) =>
      this.http.json<Page<Device>>('GET', `/products/${seg(productKey)}/devices`, { query: { ...query } }),
    get: (productKey: string, deviceName: string) =>
      this.http.json<DeviceDetail>('GET', devicePath(productKey, deviceName)),
    setTags: (productKey: string, deviceName: string, tags: string[]) =>
      this.http.json<DeviceDetail>('PUT', `${devicePath(productKey, deviceName)}/tags`, { json: { tags } }),
    delete: (productKey: string, deviceName: string) =>
      this.http.json<void>('DELETE', devicePath(productKey, deviceName)),
    status: (productKey: string, deviceName: string, module?: string) =>
      this.http.json<DeviceUpgradeStatus>('GET', `${devicePath(productKey, deviceName)}/upgrade`, {
        query: { module },
      }),
    history: (productKey: string, deviceName: string, limit?: number) =>
      this.http.json<UpgradeWithTransitions[]>('GET', `${devicePath(productKey, deviceName)}/upgrades`, {
        query: { limit },
      }),
  };

  readonly tokens = {
    create: (name: string) => this.http.json<CreatedToken>('POST', '/tokens', { json: { name } }),
  };

  readonly firmware = {
    upload: (productKey: string, fields: FirmwareUploadFields, file: UploadFile) =>
      this.#upload(`/products/${seg(productKey)}/firmware`, fields, file),
    registerExternal: (productKey: string, input: ExternalFirmwareInput) =>
      this.http.json<Firmware>('POST', `/products/${seg(productKey)}/firmware/external`, { json: input }),
    list: (query: FirmwareQuery = {}) =>
      this.http.json<Page<Firmware>>('GET', '/firmware', { query: { ...query } }),
    get: (firmwareId: number) => this.http.json<Firmware>('GET', `/firmware/${firmwareId}`),
    download: async (firmwareId: number): Promise<FirmwareDownload> => {
      const response = await this.http.request('GET', `/firmware/${firmwareId}/file`);
      if (!response.body) throw new Error('the server sent no file');
      const length = response.headers.get('content-length');
      return {
        fileName: fileNameOf(response.headers.get('content-disposition')),
        size: length === null ? undefined : Number(length),
        body: response.body,
      };
    },
    delete: (firmwareId: number) => this.http.json<void>('DELETE', `/firmware/${firmwareId}`),
  };

  readonly jobs = {
    single: (input: SingleJobInput) => this.http.json<Job>('POST', '/jobs/single', { json: input }),
    verify: (input: VerifyJobInput) => this.http.json<Job>('POST', '/jobs/verify', { json: input }),
    batch: (input: BatchJobInput) => this.http.json<Job>('POST', '/jobs/batch', { json: input }),
    /** A batch over a device list too long for a JSON body: names one per line, or CSV with a `name` column. */
    batchFromList: (
      input: DeviceListJobInput,
      list: string,
      contentType: 'text/plain' | 'text/csv' = 'text/plain',
    ) =>
      this.http.json<Job>('POST', '/jobs/batch/device-list', {
        query: { ...input },
        body: { contentType, data: list },
      }),
    retry: (jobId: number, options: JobOptions = {}) =>
      this.http.json<Job>('POST', `/jobs/${jobId}/retry`, { json: options }),
    list: (query: JobQuery = {}) => this.http.json<Page<Job>>('GET', '/jobs', { query: { ...query } }),
    get: (jobId: number) => this.http.json<JobDetail>('GET', `/jobs/${jobId}`),
    devices: (jobId: number, query: JobDevicesQuery = {}) =>
      this.http.json<CursorPage<UpgradeRow>>('GET', `/jobs/${jobId}/devices`, { query: { ...query } }),
    pause: (jobId: number) => this.http.json<Job>('POST', `/jobs/${jobId}/pause`),
    resume: (jobId: number) => this.http.json<Job>('POST', `/jobs/${jobId}/resume`),
    cancel: (jobId: number) => this.http.json<Job>('POST', `/jobs/${jobId}/cancel`),
  };

  readonly upgrades = {
    cancel: (upgradeId: number) => this.http.json<void>('POST', `/upgrades/${upgradeId}/cancel`),
  };

  readonly events = {
    /**
     * Opens the live upgrade event stream (every job, or one) and yields its events as they happen; the server
     * answers first, so a refused stream (404, 401) throws here. Abort `signal` to stop following it.
     */
    follow: async (
      query: EventStreamQuery = {},
      signal?: AbortSignal,
    ): Promise<AsyncGenerator<UpgradeEvent>> => {
      const path = query.jobId === undefined ? '/events' : `/jobs/${query.jobId}/events`;
      const response = await this.http.request('GET', path, {
        query: { after: query.after },
        accept: 'text/event-stream',
        ...(signal ? { signal } : {}),
      });
      if (!response.body) throw new Error('the server sent no event stream');
      return upgradeEvents(response.body);
    },
  };

  readonly webhooks = {
    create: (input: WebhookInput) => this.http.json<CreatedWebhook>('POST', '/webhooks', { json: input }),
    list: () => this.http.json<Page<Webhook>>('GET', '/webhooks'),
    get: (webhookId: number) => this.http.json<WebhookDetail>('GET', `/webhooks/${webhookId}`),
    delete: (webhookId: number) => this.http.json<void>('DELETE', `/webhooks/${webhookId}`),
    deliveries: (webhookId: number, query: DeliveryQuery = {}) =>
      this.http.json<Page<WebhookDelivery>>('GET', `/webhooks/${webhookId}/deliveries`, {
        query: { ...query },
      }),
    /** Queues a signed test ping. */
    test: (webhookId: number) => this.http.json<WebhookDelivery>('POST', `/webhooks/${webhookId}/test`),
    redeliver: (webhookId: number, deliveryId: number) =>
      this.http.json<WebhookDelivery>('POST', `/webhooks/${webhookId}/deliveries/${deliveryId}/redeliver`),
  };

  async #upload(path: string, fields: FirmwareUploadFields, file: UploadFile): Promise<Firmware> {
    // The server reads the text fields before the file part, so their order here is part of the protocol.
    const parts: MultipartPart[] = [{ name: 'version', value: fields.version }];
    if (fields.module) parts.push({ name: 'module', value: fields.module });
    if (fields.description) parts.push({ name: 'description', value: fields.description });
    if (fields.sourceVersions?.length)
      parts.push({ name: 'sourceVersions', value: fields.sourceVersions.join(',') });
    if (fields.md5) parts.push({ name: 'md5', value: fields.md5 });
    if (fields.sha256) parts.push({ name: 'sha256', value: fields.sha256 });
    parts.push({ name: 'file', fileName: file.fileName, size: file.size, content: file.content });
    const multipart = encodeMultipart(parts);

    // A failing body surfaces as a failed request; keep the real cause (an unreadable file, say).
    let bodyError: unknown;
    async function* guarded(): AsyncGenerator<Uint8Array> {
      try {
        yield* multipart.stream();
      } catch (error) {
        bodyError = error;
        throw error;
      }
    }
    try {
      return await this.http.json<Firmware>('POST', path, {
        body: {
          contentType: multipart.contentType,
          data: guarded(),
          length: multipart.length,
        },
      });
    } catch (error) {
      throw bodyError ?? error;
    }
  }
}

async function* upgradeEvents(body: AsyncIterable<Uint8Array>): AsyncGenerator<UpgradeEvent> {
  for await (const message of readEventStream(body)) yield JSON.parse(message.data) as UpgradeEvent;
}

function devicePath(productKey: string, deviceName: string): string {
  return `/products/${seg(productKey)}/devices/${seg(deviceName)}`;
}

/** The file name from `Content-Disposition: attachment; filename="…"`. */
function fileNameOf(disposition: string | null): string | undefined {
  const match = disposition ? /filename="([^"]*)"/i.exec(disposition) : null;
  return match?.[1] || undefined;
}
