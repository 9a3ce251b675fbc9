import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { UpgradeStateEvent } from '../src/app/events/upgrade-state-event.js';
import { verifyWebhookSignature } from '../src/app/events/webhook-signature.js';
import type { AloftConfig } from '../src/config/config.js';
import {
  type EventFixture,
  insertUpgradeEvent,
  seedEventFixture,
} from '../src/store/testing/upgrade-event-fixture.js';
import { POSTGRES, serviceUrl } from '../src/testing/services.js';
import {
  dropSchema,
  eventually,
  serverModes,
  startTestServer,
  TEST_ADMIN_TOKEN,
  type TestServer,
  testSchema,
} from '../src/testing/test-server.js';
import { connectDevice } from './device-connect.js';

/** Short intervals so the suite is quick; the logic does not depend on them. */
const fast: Partial<AloftConfig> = {
  engineTickMs: 50,
  eventPollMs: 20,
  eventHeartbeatMs: 150,
  webhookTickMs: 20,
  webhookRetryBaseMs: 20,
  webhookRetryMaxMs: 100,
  webhookMaxAttempts: 3,
};

interface Frame {
  id?: string;
  data?: string;
  comment?: string;
}

/** A minimal SSE client over fetch: reads frames as they arrive. */
interface Stream {
  status: number;
  contentType: string | null;
  /** The next `n` events (frames with data), skipping comments. */
  events(n: number): Promise<UpgradeStateEvent[]>;
  /** Resolves with the next comment frame. */
  comment(): Promise<string>;
  /** Resolves when the server ends the stream. */
  ended(): Promise<void>;
  close(): void;
}

async function openStream(url: string, headers: Record<string, string> = {}): Promise<Stream> {
  const abort = new AbortController();
  const response = await fetch(url, {
    headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, ...headers },
    signal: abort.signal,
  });
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let done = false;
  const nextFrame = async (): Promise<Frame | undefined> => {
    for (;;) {
      const end = buffer.indexOf('\n\n');
      if (end >= 0) {
        const text = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const frame: Frame = {};
        for (const line of text.split('\n')) {
          if (line.startsWith(':')) frame.comment = line.slice(1).trim();
          else if (line.startsWith('id: ')) frame.id = line.slice(4);
          else if (line.startsWith('data: ')) frame.data = line.slice(6);
        }
        return frame;
      }
      if (done) return undefined;
      const chunk = await reader.read().catch(() => ({ done: true, value: undefined }));
      if (chunk.done) done = true;
      else buffer += decoder.decode(chunk.value, { stream: true });
    }
  };
  const stream: Stream = {
    status: response.status,
    contentType: response.headers.get('content-type'),
    async events(n) {
      const events: UpgradeStateEvent[] = [];
      while (events.length < n) {
        const frame = await nextFrame();
        if (!frame) throw new Error(`stream ended after ${events.length} of ${n} events`);
        if (frame.data === undefined) continue;
        const event = JSON.parse(frame.data) as UpgradeStateEvent;
        expect(frame.id).toBe(String(event.id));
        events.push(event);
      }
      return events;
    },
    async comment() {
      for (;;) {
        const frame = await nextFrame();
        if (!frame) throw new Error('stream ended');
        if (frame.comment !== undefined) return frame.comment;
      }
    },
    async ended() {
      while (await nextFrame()) {}
    },
    close: () => abort.abort(),
  };
  return stream;
}

/** A stream that has started: its `: connected` comment arrived, so it sees everything from now on. */
async function openLiveStream(url: string, headers: Record<string, string> = {}): Promise<Stream> {
  const stream = await openStream(url, headers);
  expect(await stream.comment()).toBe('connected');
  return stream;
}

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
}

/** A local webhook receiver answering each request with the status `answer` picks. */
async function startReceiver(answer: (n: number) => number) {
  const requests: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = answer(requests.length + 1);
      requests.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), status });
      res.writeHead(status).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/aloft`,
    requests,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

interface Delivery {
  id: number;
  eventId: number;
  eventType: string;
  state: string;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
}
interface Page<T> {
  items: T[];
  total: number;
}

describe.each(serverModes())('live events with $name', (mode) => {
  let t: TestServer;
  const clients: MqttClient[] = [];
  const streams: Stream[] = [];
  const receivers: { close(): Promise<void> }[] = [];
  let fixtures = 0;
  /** Devices, and finished jobs (the engine leaves them alone), to write events for. */
  const fixture = () =>
    seedEventFixture(t.server.store.db, { productKey: `fx${++fixtures}`, jobState: 'completed' });
  const live = (path: string, headers?: Record<string, string>) =>
    openLiveStream(`${t.server.httpUrl}${path}`, headers).then((s) => {
      streams.push(s);
      return s;
    });
  const receiver = async (answer: (n: number) => number) => {
    const r = await startReceiver(answer);
    receivers.push(r);
    return r;
  };

  beforeAll(async () => {
    if (mode.available)
      t = await startTestServer({ store: mode.store, broker: mode.broker, overrides: fast });
  });
  afterEach(async () => {
    for (const s of streams.splice(0)) s.close();
    for (const r of receivers.splice(0)) await r.close();
  });
  afterAll(async () => {
    for (const c of clients) await c.endAsync(true);
    if (mode.available) await t.close();
  });

  it.skipIf(!mode.available)(
    'streams a device’s upgrade transition by transition, on the job’s stream and the global one',
    async () => {
      const pk = 'a1EvT3sts01';
      const dn = 'lamp-1';
      expect(
        (await t.api('POST', '/api/v1/products', { key: pk, name: 'Lamp', dialect: 'aliyun' })).status,
      ).toBe(201);
      const device = await t.api<{ secret: string }>('POST', `/api/v1/products/${pk}/devices`, { name: dn });
      const firmware = await t.api<{ id: number }>('POST', `/api/v1/products/${pk}/firmware/external`, {
        version: '2.0',
        url: 'http://firmware.example/lamp-2.0.bin',
        size: 1024,
        sha256: 'a'.repeat(64),
      });
      expect(firmware.status).toBe(201);

      const client = await connectDevice(
        t.mqttUrl,
        'aliyun',
        { productKey: pk, deviceName: dn },
        device.body.secret,
      );
      clients.push(client);
      const told = new Promise<void>((resolve) => client.on('message', () => resolve()));
      await client.subscribeAsync(`/ota/device/upgrade/${pk}/${dn}`, { qos: 1 });
      await client.publishAsync(`/ota/device/inform/${pk}/${dn}`, '{"id":"1","params":{"version":"1.0"}}', {
        qos: 1,
      });
      await eventually(async () => {
        const r = await t.api<{ online: boolean; versions: unknown[] }>(
          'GET',
          `/api/v1/products/${pk}/devices/${dn}`,
        );
        return r.body.online && r.body.versions.length === 1;
      }, 'the device online on 1.0');

      const global = await live('/api/v1/events');
      const job = await t.api<{ id: number }>('POST', '/api/v1/jobs/single', {
        firmwareId: firmware.body.id,
        deviceName: dn,
      });
      expect(job.status).toBe(201);
      const perJob = await live(`/api/v1/jobs/${job.body.id}/events?after=0`);
      expect(perJob.status).toBe(200);
      expect(perJob.contentType).toMatch(/^text\/event-stream/);

      await told;
      await client.publishAsync(
        `/ota/device/progress/${pk}/${dn}`,
        '{"id":"2","params":{"step":"50","desc":""}}',
        {
          qos: 1,
        },
      );
      // Progress first, then the new version: the device proves success by reporting it.
      await eventually(async () => {
        const r = await t.api<{ items: { state: string }[] }>('GET', `/api/v1/jobs/${job.body.id}/devices`);
        return r.body.items[0]?.state === 'downloading';
      }, 'the download to be recorded');
      await client.publishAsync(`/ota/device/inform/${pk}/${dn}`, '{"id":"3","params":{"version":"2.0"}}', {
        qos: 1,
      });

      const events = await perJob.events(4);
      expect(events.map((e) => [e.fromState, e.toState])).toEqual([
        [null, 'queued'],
        ['queued', 'notified'],
        ['notified', 'downloading'],
        ['downloading', 'succeeded'],
      ]);
      expect(events[2]).toMatchObject({ phase: 'downloading', percent: 50 });
      for (const e of events) {
        expect(e).toMatchObject({
          type: 'upgrade.state',
          jobId: job.body.id,
          deviceName: dn,
          productKey: pk,
        });
      }
      expect(events.map((e) => e.id)).toEqual([...events.map((e) => e.id)].sort((a, b) => a - b));
      const seenGlobally = (await global.events(4)).filter((e) => e.jobId === job.body.id);
      expect(seenGlobally).toEqual(events);
    },
  );

  it.skipIf(!mode.available)('resumes after Last-Event-ID without losing or repeating an event', async () => {
    const fx = await fixture();
    const jobId = fx.jobIds[0]!;
    const add = (to: string) => fx.addEvent({ jobId, deviceId: fx.deviceIds[0]!, to });
    const first = [await add('queued'), await add('notified'), await add('downloading')];
    await fx.addEvent({ jobId: fx.jobIds[1]!, deviceId: fx.deviceIds[1]!, to: 'queued' });

    const stream = await live(`/api/v1/jobs/${jobId}/events?after=0`);
    expect((await stream.events(3)).map((e) => e.id)).toEqual(first);
    stream.close();
    // While the client is away.
    const later = [await add('installing'), await add('succeeded')];

    // The client had handled the first two only; `after` is ignored when the header is there.
    const resumed = await live(`/api/v1/jobs/${jobId}/events?after=0`, { 'last-event-id': String(first[1]) });
    const events = await resumed.events(3);
    expect(events.map((e) => e.id)).toEqual([first[2], ...later]);
    expect(events.map((e) => e.toState)).toEqual(['downloading', 'installing', 'succeeded']);
    const next = await add('cancelled');
    expect((await resumed.events(1)).map((e) => e.id)).toEqual([next]);
  });

  it.skipIf(!mode.available)('starts a stream without a position at the events from now on', async () => {
    const fx = await fixture();
    await fx.addEvent({ jobId: fx.jobIds[0]!, deviceId: fx.deviceIds[0]!, to: 'queued' });
    const stream = await live('/api/v1/events');
    const fresh = await fx.addEvent({ jobId: fx.jobIds[0]!, deviceId: fx.deviceIds[0]!, to: 'notified' });
    expect((await stream.events(1)).map((e) => e.id)).toEqual([fresh]);
  });

  it.skipIf(!mode.available)('keeps a quiet stream alive with comments', async () => {
    const fx = await fixture();
    const stream = await live(`/api/v1/jobs/${fx.jobIds[0]}/events`);
    expect(await stream.comment()).toBe('ping');
  });

  it.skipIf(!mode.available)(
    'refuses streams without a token, of unknown jobs, from a bad position',
    async () => {
      const anonymous = await fetch(`${t.server.httpUrl}/api/v1/events`);
      expect(anonymous.status).toBe(401);
      expect((await t.api('GET', '/api/v1/jobs/999999/events')).status).toBe(404);
      const bad = await fetch(`${t.server.httpUrl}/api/v1/events`, {
        headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'last-event-id': 'yesterday' },
      });
      expect(bad.status).toBe(400);
      expect((await t.api('GET', '/api/v1/events?after=-1')).status).toBe(400);
    },
  );

  it.skipIf(!mode.available)(
    'signs each delivery and retries a failing receiver until it answers 2xx',
    async () => {
      const fx = await fixture();
      const jobId = fx.jobIds[0]!;
      const hook = await receiver((n) => (n <= 2 ? 500 : 200));
      const created = await t.api<{ id: number; secret: string; states: string[]; jobId: number }>(
        'POST',
        '/api/v1/webhooks',
        { url: hook.url, jobId },
      );
      expect(created.status).toBe(201);
      expect(created.body.secret).toMatch(/^[0-9a-f]{64}$/);
      expect(created.body).toMatchObject({ jobId, states: [] });
      const listed = await t.api<Page<Record<string, unknown>>>('GET', '/api/v1/webhooks');
      expect(listed.body.items.find((w) => w.id === created.body.id)).not.toHaveProperty('secret');

      const eventId = await fx.addEvent({ jobId, deviceId: fx.deviceIds[0]!, to: 'failed' });
      const deliveries = `/api/v1/webhooks/${created.body.id}/deliveries`;
      const [delivered] = await eventually(async () => {
        const r = await t.api<Page<Delivery>>('GET', `${deliveries}?state=delivered`);
        return r.body.items.length ? r.body.items : undefined;
      }, 'the delivery');
      expect(delivered).toMatchObject({ eventId, eventType: 'upgrade.state', attempts: 3, lastStatus: 200 });
      expect(hook.requests.map((r) => r.status)).toEqual([500, 500, 200]);
      for (const request of hook.requests) {
        expect(request.body).toBe(hook.requests[0]!.body);
        expect(request.headers['x-aloft-event']).toBe('upgrade.state');
        expect(request.headers['x-aloft-delivery']).toBe(String(delivered!.id));
        expect(request.headers['x-aloft-timestamp']).toMatch(/^\d+$/);
        expect(
          verifyWebhookSignature(
            created.body.secret,
            request.body,
            request.headers['x-aloft-signature'] as string,
          ),
        ).toBe(true);
      }
      expect(JSON.parse(hook.requests[0]!.body)).toMatchObject({
        id: eventId,
        type: 'upgrade.state',
        jobId,
        deviceName: 'dev-1',
        productKey: `fx${fixtures}`,
        toState: 'failed',
      });
      expect((await t.api<Page<Delivery>>('GET', deliveries)).body.total).toBe(1);
    },
  );

  it.skipIf(!mode.available)('shows the deliveries that failed for good, and sends one again', async () => {
    const fx = await fixture();
    const jobId = fx.jobIds[0]!;
    let up = false;
    const hook = await receiver(() => (up ? 204 : 503));
    const created = await t.api<{ id: number }>('POST', '/api/v1/webhooks', {
      url: hook.url,
      jobId,
      states: ['succeeded'],
      secret: 'a-shared-secret-of-some-length',
    });
    await fx.addEvent({ jobId, deviceId: fx.deviceIds[0]!, to: 'queued' });
    const eventId = await fx.addEvent({ jobId, deviceId: fx.deviceIds[0]!, to: 'succeeded' });

    const path = `/api/v1/webhooks/${created.body.id}`;
    const [failed] = await eventually(async () => {
      const r = await t.api<Page<Delivery>>('GET', `${path}/deliveries?state=failed`);
      return r.body.items.length ? r.body.items : undefined;
    }, 'the delivery to fail');
    expect(failed).toMatchObject({
      eventId,
      state: 'failed',
      attempts: 3,
      lastStatus: 503,
      lastError: 'HTTP 503',
    });
    expect(hook.requests).toHaveLength(3);
    expect((await t.api<{ deliveries: unknown }>('GET', path)).body.deliveries).toEqual({
      pending: 0,
      delivered: 0,
      failed: 1,
    });

    up = true;
    expect((await t.api('POST', `${path}/deliveries/${failed!.id}/redeliver`)).status).toBe(202);
    await eventually(async () => {
      const r = await t.api<{ deliveries: { delivered: number } }>('GET', path);
      return r.body.deliveries.delivered === 1;
    }, 'the redelivery');
    expect(
      verifyWebhookSignature(
        'a-shared-secret-of-some-length',
        hook.requests[3]!.body,
        hook.requests[3]!.headers['x-aloft-signature'] as string,
      ),
    ).toBe(true);
  });

  it.skipIf(!mode.available)('records why a receiver that cannot be reached was not reached', async () => {
    const fx = await fixture();
    const gone = await startReceiver(() => 200);
    await gone.close();
    const created = await t.api<{ id: number }>('POST', '/api/v1/webhooks', {
      url: gone.url,
      jobId: fx.jobIds[0],
    });
    await fx.addEvent({ jobId: fx.jobIds[0]!, deviceId: fx.deviceIds[0]!, to: 'queued' });
    const [failed] = await eventually(async () => {
      const r = await t.api<Page<Delivery>>(
        'GET',
        `/api/v1/webhooks/${created.body.id}/deliveries?state=failed`,
      );
      return r.body.items.length ? r.body.items : undefined;
    }, 'the delivery to fail');
    expect(failed).toMatchObject({ attempts: 3, lastStatus: null, lastError: 'ECONNREFUSED' });
  });

  it.skipIf(!mode.available)('validates, pings and deletes webhooks', async () => {
    for (const url of ['ftp://example.com/hook', 'not a url', 'javascript:alert(1)']) {
      const r = await t.api<{ code: string }>('POST', '/api/v1/webhooks', { url });
      expect(r.status).toBe(400);
      expect(r.body.code).toBe('ALOFT_VALIDATION');
    }
    expect(
      (await t.api('POST', '/api/v1/webhooks', { url: 'https://example.com', states: ['done'] })).status,
    ).toBe(400);
    expect(
      (await t.api('POST', '/api/v1/webhooks', { url: 'https://example.com', jobId: 999999 })).status,
    ).toBe(404);

    const hook = await receiver(() => 200);
    const created = await t.api<{ id: number; secret: string }>('POST', '/api/v1/webhooks', {
      url: hook.url,
    });
    const ping = await t.api<Delivery>('POST', `/api/v1/webhooks/${created.body.id}/test`);
    expect(ping.status).toBe(202);
    expect(ping.body).toMatchObject({ eventId: 0, eventType: 'ping', state: 'pending' });
    await eventually(async () => hook.requests.length > 0, 'the ping');
    expect(hook.requests[0]!.headers['x-aloft-event']).toBe('ping');
    expect(JSON.parse(hook.requests[0]!.body)).toMatchObject({ type: 'ping', webhookId: created.body.id });
    expect(
      verifyWebhookSignature(
        created.body.secret,
        hook.requests[0]!.body,
        hook.requests[0]!.headers['x-aloft-signature'] as string,
      ),
    ).toBe(true);

    expect((await t.api('DELETE', `/api/v1/webhooks/${created.body.id}`)).status).toBe(204);
    expect((await t.api('DELETE', `/api/v1/webhooks/${created.body.id}`)).status).toBe(404);
    expect((await t.api('GET', `/api/v1/webhooks/${created.body.id}/deliveries`)).status).toBe(404);
  });
});

describe.each(serverModes())('a server restart with $name', (mode) => {
  it.skipIf(!mode.available)(
    'loses no event and sends none twice, on the stream and to webhooks',
    async () => {
      const dataDir = await mkdtemp(join(tmpdir(), 'aloft-restart-'));
      const schema = mode.store === 'postgres' ? testSchema() : undefined;
      const start = () =>
        startTestServer({
          store: mode.store,
          broker: mode.broker,
          ...(schema ? { schema } : {}),
          // Enough attempts (about 45 s of retrying) that no delivery runs out before the receiver is back.
          overrides: { ...fast, webhookRetryMaxMs: 1000, webhookMaxAttempts: 50, dataDir },
        });
      let up = false;
      const hook = await startReceiver(() => (up ? 200 : 503));
      let t = await start();
      try {
        const fx: EventFixture = await seedEventFixture(t.server.store.db, {
          productKey: 'pkr',
          jobState: 'completed',
        });
        const jobId = fx.jobIds[0]!;
        const add = (to: string) => fx.addEvent({ jobId, deviceId: fx.deviceIds[0]!, to });
        const created = await t.api<{ id: number; secret: string }>('POST', '/api/v1/webhooks', {
          url: hook.url,
          jobId,
        });
        const before = [await add('queued'), await add('notified'), await add('downloading')];

        const stream = await openLiveStream(`${t.server.httpUrl}/api/v1/jobs/${jobId}/events?after=0`);
        const seen = await stream.events(2);
        await eventually(async () => {
          const r = await t.api<Page<Delivery>>(
            'GET',
            `/api/v1/webhooks/${created.body.id}/deliveries?state=pending`,
          );
          return r.body.total === 3 && r.body.items.every((d) => d.attempts > 0);
        }, 'every delivery tried once');

        // Graceful shutdown with a stream open: the stream ends, the close does not hang.
        await t.close();
        await stream.ended();

        t = await start();
        const after = [
          await insertUpgradeEvent(t.server.store.db, {
            jobId,
            deviceId: fx.deviceIds[0]!,
            to: 'installing',
          }),
        ];
        up = true;
        const resumed = await openLiveStream(`${t.server.httpUrl}/api/v1/jobs/${jobId}/events`, {
          'last-event-id': String(seen[1]!.id),
        });
        expect((await resumed.events(2)).map((e) => e.id)).toEqual([before[2], ...after]);
        resumed.close();

        const expected = [...before, ...after].sort((a, b) => a - b);
        await eventually(async () => {
          const r = await t.api<{ deliveries: { delivered: number } }>(
            'GET',
            `/api/v1/webhooks/${created.body.id}`,
          );
          return r.body.deliveries.delivered === expected.length;
        }, 'every delivery to arrive');
        const accepted = hook.requests
          .filter((r) => r.status === 200)
          .map((r) => (JSON.parse(r.body) as UpgradeStateEvent).id)
          .sort((a, b) => a - b);
        expect(accepted).toEqual(expected);
      } finally {
        await t.close();
        await hook.close();
        if (schema) await dropSchema(serviceUrl(POSTGRES)!, schema);
        await rm(dataDir, { recursive: true, force: true });
      }
    },
  );
});
