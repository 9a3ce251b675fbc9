import type { DeviceRef, OutboundMessage } from '@aloft/protocol';
import { describe, expect, it } from 'vitest';
import type { DeviceIngest } from '../../app/ingest/device-ingest.js';
import { noIngestMetrics } from '../../app/ports/ingest-metrics.js';
import { silentLogger } from '../../app/ports/logger.js';
import type { BrokerLink, InboundHandler } from './broker-link.js';
import { MqttGateway } from './gateway.js';

/** A broker that hands messages to the gateway's handlers and owns only the devices `mine` accepts. */
function fakeBroker(mine: (device: DeviceRef) => boolean) {
  const handlers: InboundHandler[] = [];
  const published: OutboundMessage[] = [];
  const broker: BrokerLink = {
    kind: 'external',
    address: 'mqtt://fake',
    subscribe: async (_filters, handler) => {
      handlers.push(handler);
    },
    handles: (topic, device) => !topic.startsWith('$') || mine(device),
    onPresence: () => {},
    publish: async (message) => {
      published.push(message);
    },
    health: () => undefined,
    close: async () => {},
  };
  const deliver = (topic: string, payload: string) => {
    for (const handler of handlers) handler(topic, Buffer.from(payload));
  };
  return { broker, published, deliver };
}

async function gatewayOn(mine: (device: DeviceRef) => boolean) {
  const fake = fakeBroker(mine);
  const accepted: DeviceRef[] = [];
  const ingest = {
    accept: (_dialect: string, device: DeviceRef) => accepted.push(device),
    presence: () => {},
  } as unknown as DeviceIngest;
  await new MqttGateway({
    broker: fake.broker,
    ingest,
    metrics: noIngestMetrics,
    logger: silentLogger,
    clock: () => 0,
  }).start();
  return { ...fake, accepted };
}

const report = '{"type":"report_version","report":{"version":"0.2"}}';

describe('MqttGateway on topics every instance receives', () => {
  it('handles and acknowledges a Tencent report of a device this instance owns', async () => {
    const g = await gatewayOn((d) => d.deviceName === 'mine');
    g.deliver('$ota/report/ABCDEFGHIJ/mine', report);
    expect(g.accepted).toEqual([{ productKey: 'ABCDEFGHIJ', deviceName: 'mine' }]);
    expect(g.published.map((m) => m.topic)).toEqual(['$ota/update/ABCDEFGHIJ/mine']);
  });

  it('leaves a report of another instance’s device alone: no write, no acknowledgement', async () => {
    const g = await gatewayOn((d) => d.deviceName === 'mine');
    g.deliver('$ota/report/ABCDEFGHIJ/theirs', report);
    expect(g.accepted).toEqual([]);
    expect(g.published).toEqual([]);
  });

  it('handles shared-subscription traffic whoever owns the device', async () => {
    const g = await gatewayOn(() => false);
    g.deliver('/ota/device/inform/a1b2c3d4e5f/theirs', '{"id":"1","params":{"version":"1.0"}}');
    expect(g.accepted).toEqual([{ productKey: 'a1b2c3d4e5f', deviceName: 'theirs' }]);
  });
});
