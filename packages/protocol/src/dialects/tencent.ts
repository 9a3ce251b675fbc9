import type { DialectCodec } from '../codec.js';
import { decodeTencent } from './tencent-decode.js';
import { encodeTencentProgress, encodeTencentVersion } from './tencent-encode-device.js';
import {
  decodeTencentServer,
  encodeTencentTaskReply,
  encodeTencentUpgrade,
  encodeTencentVersionAck,
} from './tencent-server.js';
import { parseTencentTopic, TENCENT_INBOUND_FILTERS, tencentTopic } from './tencent-topics.js';

/**
 * Tencent Cloud IoT Hub / IoT Explorer OTA, as the embedded C SDK speaks it. See wire-protocols.md §2.
 * Devices cannot ask for a task: on reconnect they report their version and the server re-sends the push.
 */
export const tencentCodec: DialectCodec = {
  dialect: 'tencent',
  inboundFilters: TENCENT_INBOUND_FILTERS,
  deviceOf: (topic) => parseTencentTopic(topic)?.device,
  decode: decodeTencent,
  encodeUpgrade: encodeTencentUpgrade,
  encodeTaskReply: encodeTencentTaskReply,
  encodeVersionAck: encodeTencentVersionAck,

  deviceTopics: (device) => ({
    publish: [tencentTopic.report(device)],
    subscribe: [tencentTopic.update(device)],
  }),
  deviceSubscriptions: (device) => [tencentTopic.update(device)],
  encodeVersion: encodeTencentVersion,
  encodeProgress: encodeTencentProgress,
  encodeTaskRequest: () => undefined,
  decodeServer: decodeTencentServer,
};
