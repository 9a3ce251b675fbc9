import type { DeviceRef } from '@aloft/protocol';
import { describe, expect, it } from 'vitest';
import type { DeviceEvent } from '../ports/device-event-sink.js';
import type { ResolvedDevice } from '../ports/device-repository.js';
import { noIngestMetrics } from '../ports/ingest-metrics.js';
import { silentLogger } from '../ports/logger.js';
import type { PresenceWrite, VersionWrite } from '../ports/telemetry-writer.js';
import { DeviceIngest } from './device-ingest.js';
import { laneOf } from './device-lane.js';

const PRODUCT = 'pk';
const device = (n: number): DeviceRef => ({ productKey: PRODUCT, deviceName: `d${n}` });
/** Device `d<n>` has id n + 1. */
const idOf = (n: number) => n + 1;

/** One `writeBatch` call, held until the test (or the fake's automatic mode) lets it finish. */
interface HeldWrite {
  versions: readonly VersionWrite[];
  presence: readonly PresenceWrite[];
  finish(): void;
  fail(error: Error): void;
}

/**
 * Telemetry in memory that records what each batch wrote and how many batches were in flight at once. Writes are
 * held until released (`hold`), or finish after a few turns of the event loop that vary per batch, so batches of
 * different lanes finish out of order.
 */
class FakeTelemetry {
  writes: HeldWrite[] = [];
  written: { versions: readonly VersionWrite[]; presence: readonly PresenceWrite[] }[] = [];
  inFlight = 0;
  maxInFlight = 0;
  failWhen: (versions: readonly VersionWrite[]) => boolean = () => false;

  constructor(private readonly hold: boolean) {}

  writeBatch(versions: readonly VersionWrite[], presence: readonly PresenceWrite[]): Promise<void> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    return new Promise<void>((resolve, reject) => {
      const write: HeldWrite = {
        versions,
        presence,
        finish: () => {
          this.inFlight--;
          this.written.push({ versions, presence });
          resolve();
        },
        fail: (error) => {
          this.inFlight--;
          reject(error);
        },
      };
      this.writes.push(write);
      if (this.hold) return;
      const turns = 1 + ((this.writes.length * 7) % 5);
      void turnsOfTheLoop(turns).then(() =>
        this.failWhen(versions) ? write.fail(new Error('database hiccup')) : write.finish(),
      );
    });
  }
}

/**
 * After the ingest's gathering timer (batchMs 0) has fired and what it started has run a few turns: timers of the
 * same delay fire in the order they were set, and the ingest set its own before this one.
 */
async function afterGathering(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 0));
  await turnsOfTheLoop(3);
}

function turnsOfTheLoop(n: number): Promise<void> {
  let chain = Promise.resolve();
  for (let i = 0; i < n; i++) chain = chain.then(() => new Promise((resolve) => setImmediate(resolve)));
  return chain;
}

function makeIngest(options: {
  lanes: number;
  batchMax: number;
  telemetry: FakeTelemetry;
  sinkFailsWhen?: (events: readonly DeviceEvent[]) => boolean;
  /** Whether a failure is about the data (the batch may be split); by default every failure is. */
  isDataError?: (error: unknown) => boolean;
}) {
  const events: DeviceEvent[] = [];
  const errors: string[] = [];
  /** Each `onBatchWritten` call, with how many events the sink had finished handling by then. */
  const written: { messages: number; eventsHandled: number }[] = [];
  const ingest = new DeviceIngest({
    devices: {
      async resolveMany(refs) {
        const resolved = new Map<string, ResolvedDevice>();
        for (const r of refs) {
          const n = Number(r.deviceName.slice(1));
          if (r.productKey === PRODUCT)
            resolved.set(`${r.productKey}/${r.deviceName}`, { id: idOf(n), dialect: 'aliyun' });
        }
        return resolved;
      },
    },
    telemetry: options.telemetry,
    isDataError: options.isDataError ?? (() => true),
    sink: {
      async handle(batch) {
        // Takes a few turns, so a hook called before the sink is done sees fewer events handled.
        await turnsOfTheLoop(2);
        if (options.sinkFailsWhen?.(batch)) throw new Error('sink hiccup');
        events.push(...batch);
      },
    },
    metrics: noIngestMetrics,
    logger: { ...silentLogger, error: (_obj, msg) => errors.push(msg ?? '') },
    batchMs: 0,
    batchMax: options.batchMax,
    lanes: options.lanes,
    onBatchWritten: ({ messages }) => written.push({ messages, eventsHandled: events.length }),
  });
  const report = (n: number, version: string, at: number) =>
    ingest.accept('aliyun', device(n), [{ kind: 'version', module: 'default', version }], at);
  return { ingest, events, errors, written, report };
}

/** Devices 0… sorted by lane: the first device of each lane. */
function oneDevicePerLane(lanes: number): number[] {
  const firstOf = new Map<number, number>();
  for (let n = 0; firstOf.size < lanes; n++)
    if (!firstOf.has(laneOf(device(n), lanes))) firstOf.set(laneOf(device(n), lanes), n);
  return [...firstOf.values()];
}

describe('DeviceIngest lanes', () => {
  it('writes several batches at once, yet hands each device its messages in arrival order', async () => {
    const telemetry = new FakeTelemetry(false);
    const { ingest, events, report } = makeIngest({ lanes: 3, batchMax: 4, telemetry });
    const devices = 12;
    const reports = 10;
    let at = 0;
    for (let r = 1; r <= reports; r++) {
      for (let n = 0; n < devices; n++) report(n, `${r}`, ++at);
      // Let batches start between rounds, so a device's reports span several batches.
      await turnsOfTheLoop(2);
    }
    ingest.presence(device(0), false, ++at);
    ingest.presence(device(0), true, ++at);
    await ingest.flush();

    expect(telemetry.maxInFlight).toBeGreaterThan(1);
    expect(telemetry.maxInFlight).toBeLessThanOrEqual(3);
    expect(telemetry.writes.length).toBeGreaterThan((devices * reports) / 4);
    for (let n = 0; n < devices; n++) {
      const expected = Array.from({ length: reports }, (_, i) => `${i + 1}`);
      const handed = events.filter((e) => e.deviceId === idOf(n) && e.kind === 'version');
      expect(handed.map((e) => (e.kind === 'version' ? e.version : ''))).toEqual(expected);
      const stored = telemetry.written.flatMap((w) => w.versions.filter((v) => v.deviceId === idOf(n)));
      expect(stored.map((v) => v.version)).toEqual(expected);
    }
    // The presence changes came after device 0's reports, in their own order.
    const presence = telemetry.written.flatMap((w) => w.presence.filter((p) => p.deviceId === idOf(0)));
    expect(presence.slice(-2).map((p) => p.online)).toEqual([false, true]);
    expect(events.filter((e) => e.deviceId === idOf(0)).at(-1)).toMatchObject({ kind: 'online' });
  });

  it('writes a lane one batch at a time, and takes what gathered meanwhile as the next batch', async () => {
    const telemetry = new FakeTelemetry(true);
    const { ingest, report } = makeIngest({ lanes: 1, batchMax: 100, telemetry });
    report(0, 'a', 1);
    await afterGathering();
    expect(telemetry.writes).toHaveLength(1);
    for (let n = 1; n <= 5; n++) report(n, 'b', 2);
    await afterGathering();
    expect(telemetry.writes).toHaveLength(1);
    telemetry.writes[0]!.finish();
    await afterGathering();
    expect(telemetry.writes).toHaveLength(2);
    expect(telemetry.writes[1]!.versions.map((v) => v.deviceId)).toEqual([2, 3, 4, 5, 6]);
    telemetry.writes[1]!.finish();
    await ingest.flush();
  });

  it('flush waits for every lane', async () => {
    const telemetry = new FakeTelemetry(true);
    const lanes = 3;
    const { ingest, events, report } = makeIngest({ lanes, batchMax: 100, telemetry });
    const devices = oneDevicePerLane(lanes);
    for (const n of devices) report(n, '1', 1);
    let flushed = false;
    const flush = ingest.flush().then(() => {
      flushed = true;
    });
    await afterGathering();
    expect(telemetry.writes).toHaveLength(lanes);
    for (const write of telemetry.writes.slice(0, -1)) {
      write.finish();
      await afterGathering();
      expect(flushed).toBe(false);
    }
    telemetry.writes.at(-1)!.finish();
    await flush;
    expect(flushed).toBe(true);
    expect(events.map((e) => e.deviceId).sort()).toEqual(devices.map(idOf).sort());
  });

  it('flush does not wait for what arrives after it', async () => {
    const telemetry = new FakeTelemetry(true);
    const { ingest, report } = makeIngest({ lanes: 1, batchMax: 100, telemetry });
    report(0, '1', 1);
    const flush = ingest.flush();
    await turnsOfTheLoop(1);
    report(1, '1', 2);
    telemetry.writes[0]!.finish();
    await flush;
    // The later report is being written (or waits for the lane) but the flush did not wait for it.
    expect(telemetry.written).toHaveLength(1);
    await afterGathering();
    telemetry.writes[1]!.finish();
    await ingest.flush();
    expect(telemetry.written).toHaveLength(2);
  });

  it('a failing batch fails alone: other lanes and later batches of its lane are written', async () => {
    const telemetry = new FakeTelemetry(false);
    const lanes = 3;
    const { ingest, events, errors, report } = makeIngest({ lanes, batchMax: 100, telemetry });
    const [broken, ...others] = oneDevicePerLane(lanes);
    telemetry.failWhen = (versions) =>
      versions.some((v) => v.deviceId === idOf(broken!) && v.version === '1');
    report(broken!, '1', 1);
    for (const n of others) report(n, '1', 1);
    await ingest.flush();
    expect(errors).toEqual(['device messages not written']);
    expect(events.map((e) => e.deviceId).sort()).toEqual(others.map(idOf).sort());

    report(broken!, '2', 2);
    for (const n of others) report(n, '2', 2);
    await ingest.flush();
    expect(errors).toHaveLength(1);
    expect(events.filter((e) => e.deviceId === idOf(broken!))).toMatchObject([
      { kind: 'version', version: '2' },
    ]);
  });

  it('a message the database refuses fails alone: the rest of its batch is written, in order', async () => {
    const telemetry = new FakeTelemetry(false);
    const { ingest, events, errors, written, report } = makeIngest({ lanes: 1, batchMax: 100, telemetry });
    const poison = 2;
    telemetry.failWhen = (versions) => versions.some((v) => v.deviceId === idOf(poison));
    for (let n = 0; n < 5; n++) report(n, '1', 1);
    await ingest.flush();
    expect(events.map((e) => e.deviceId)).toEqual([0, 1, 3, 4].map(idOf));
    expect(errors).toEqual(['device messages not written']);
    expect(written.reduce((sum, w) => sum + w.messages, 0)).toBe(4);
  });

  it('an outage fails the batch at once: it is not retried message by message', async () => {
    const telemetry = new FakeTelemetry(false);
    const { ingest, events, errors, report } = makeIngest({
      lanes: 1,
      batchMax: 100,
      telemetry,
      isDataError: () => false,
    });
    telemetry.failWhen = () => true;
    for (let n = 0; n < 5; n++) report(n, '1', 1);
    await ingest.flush();
    expect(telemetry.writes).toHaveLength(1);
    expect(events).toEqual([]);
    expect(errors).toEqual(['device messages not written']);
  });

  it('takes nothing after close, but writes what was pending', async () => {
    const telemetry = new FakeTelemetry(false);
    const { ingest, events, report } = makeIngest({ lanes: 2, batchMax: 100, telemetry });
    report(0, '1', 1);
    report(1, '1', 1);
    await ingest.close();
    report(2, '1', 2);
    await afterGathering();
    expect(events.map((e) => e.deviceId).sort()).toEqual([1, 2]);
  });
});

describe('DeviceIngest onBatchWritten', () => {
  it('counts the messages each batch applied, once the sink has handled them', async () => {
    const telemetry = new FakeTelemetry(true);
    const { ingest, written, report } = makeIngest({ lanes: 1, batchMax: 100, telemetry });
    // One pending item carrying two messages.
    ingest.accept(
      'aliyun',
      device(0),
      [
        { kind: 'progress', module: 'default', version: '2', phase: 'downloading', percent: 50 },
        { kind: 'version', module: 'default', version: '2' },
      ],
      1,
    );
    await afterGathering();
    // Dropped messages (unknown device, wrong dialect) and presence changes are not messages applied.
    for (let n = 1; n <= 3; n++) report(n, '2', 2);
    const version = [{ kind: 'version', module: 'default', version: '2' } as const];
    ingest.accept('aliyun', { productKey: 'other', deviceName: 'd1' }, version, 2);
    ingest.accept('tencent', device(4), version, 2);
    ingest.presence(device(5), true, 2);
    expect(written).toEqual([]);
    telemetry.writes[0]!.finish();
    await afterGathering();
    expect(written).toEqual([{ messages: 2, eventsHandled: 2 }]);
    telemetry.writes[1]!.finish();
    await ingest.flush();
    // 3 version events and device 5's online event.
    expect(written).toEqual([
      { messages: 2, eventsHandled: 2 },
      { messages: 3, eventsHandled: 6 },
    ]);
  });

  it('is not called for a batch that failed, in the database or in the sink', async () => {
    const telemetry = new FakeTelemetry(false);
    const { ingest, written, errors, report } = makeIngest({
      lanes: 1,
      batchMax: 100,
      telemetry,
      sinkFailsWhen: (events) => events.some((e) => e.deviceId === idOf(1)),
    });
    telemetry.failWhen = (versions) => versions.some((v) => v.deviceId === idOf(0));
    report(0, '1', 1);
    await ingest.flush();
    report(1, '1', 2);
    await ingest.flush();
    report(2, '1', 3);
    report(3, '1', 3);
    await ingest.flush();
    expect(errors).toEqual(['device messages not written', 'device messages not written']);
    expect(written).toEqual([{ messages: 2, eventsHandled: 2 }]);
  });
});

describe('laneOf', () => {
  it('puts a device in the same lane every time and spreads a fleet evenly', () => {
    const lanes = 3;
    const counts = [0, 0, 0];
    for (let n = 0; n < 3000; n++) {
      const lane = laneOf(device(n), lanes);
      expect(laneOf({ productKey: PRODUCT, deviceName: `d${n}` }, lanes)).toBe(lane);
      counts[lane]!++;
    }
    for (const count of counts) expect(count).toBeGreaterThan(850);
    expect(laneOf(device(7), 1)).toBe(0);
    // The product is part of the key: the same name in another product is another device.
    const lanesOfName = new Set(
      Array.from({ length: 20 }, (_, p) => laneOf({ productKey: `p${p}`, deviceName: 'd1' }, lanes)),
    );
    expect(lanesOfName.size).toBeGreaterThan(1);
  });
});
