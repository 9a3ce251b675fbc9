import type { DialectCodec } from '../codec.js';
import type { DeviceRef } from '../vocabulary.js';
import { decodeAliyun } from './aliyun-decode.js';
import { decodeAliyunServer } from './aliyun-decode-server.js';
import {
  encodeAliyunProgress,
  encodeAliyunTaskRequest,
  encodeAliyunVersion,
} from './aliyun-encode-device.js';
import { encodeAliyunTaskReply, encodeAliyunUpgrade } from './aliyun-encode-server.js';
import { ALIYUN_INBOUND_FILTERS, aliyunTopic, parseAliyunTopic } from './aliyun-topics.js';

/**
 * Alibaba Cloud IoT Platform OTA (Alink), as SDK v3 (`iotkit-embedded`) and LinkSDK 4 speak it.
 * See wire-protocols.md §1. The MQTT block download lives in `aliyun-file-block.ts`.
 */
export const aliyunCodec: DialectCodec = {
  dialect: 'aliyun',
  inboundFilters: ALIYUN_INBOUND_FILTERS,
  deviceOf: (topic) => parseAliyunTopic(topic)?.device,
  decode: decodeAliyun,
  encodeUpgrade: encodeAliyunUpgrade,
  encodeTaskReply: encodeAliyunTaskReply,
  encodeVersionAck: () => undefined,

  deviceTopics: (device: DeviceRef) => ({
    publish: [
      aliyunTopic.inform(device),
      aliyunTopic.progress(device),
      aliyunTopic.request(device),
      aliyunTopic.firmwareGet(device),
      aliyunTopic.fileDownload(device),
    ],
    subscribe: [
      aliyunTopic.upgrade(device),
      aliyunTopic.request(device),
      aliyunTopic.firmwareGetReply(device),
      aliyunTopic.fileDownloadReply(device),
    ],
  }),
  deviceSubscriptions: (device) => [aliyunTopic.upgrade(device), aliyunTopic.firmwareGetReply(device)],
  encodeVersion: encodeAliyunVersion,
  encodeProgress: encodeAliyunProgress,
  encodeTaskRequest: encodeAliyunTaskRequest,
  decodeServer: decodeAliyunServer,
};
