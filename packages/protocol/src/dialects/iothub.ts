import type { DialectCodec } from '../codec.js';
import { decodeIothub } from './iothub-decode.js';
import { encodeIothubProgress, encodeIothubVersion } from './iothub-encode-device.js';
import { decodeIothubServer, encodeIothubTaskReply, encodeIothubUpgrade } from './iothub-server.js';
import { IOTHUB_INBOUND_FILTERS, iothubTopic, parseIothubTopic } from './iothub-topics.js';

/**
 * The IotHub course's platform (the seed documents' first system). See wire-protocols.md §3.
 * Versions arrive in status reports as `<type>_ver` keys; tasks carry `type` = module name.
 */
export const iothubCodec: DialectCodec = {
  dialect: 'iothub',
  inboundFilters: IOTHUB_INBOUND_FILTERS,
  deviceOf: (topic) => parseIothubTopic(topic)?.device,
  decode: decodeIothub,
  encodeUpgrade: encodeIothubUpgrade,
  encodeTaskReply: encodeIothubTaskReply,
  encodeVersionAck: () => undefined,

  deviceTopics: (device) => ({
    publish: [iothubTopic.otaStatusFilter(device), iothubTopic.statusFilter(device)],
    subscribe: [iothubTopic.commandFilter(device)],
  }),
  deviceSubscriptions: (device) => [iothubTopic.commandFilter(device)],
  encodeVersion: encodeIothubVersion,
  encodeProgress: encodeIothubProgress,
  encodeTaskRequest: () => undefined,
  decodeServer: decodeIothubServer,
};
