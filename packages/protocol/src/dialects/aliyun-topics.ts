import { assertTopicDevice, deviceFromLevels } from '../topic.js';
import type { DeviceRef } from '../vocabulary.js';

/**
 * Aliyun topics (doc "设备OTA开发"; LinkSDK `ota_private.h`, `mqtt_download_private.h`).
 * Device → server: inform, progress, request (legacy pull), firmware/get, file/download.
 * Server → device: upgrade, request (the legacy reply shares the request topic), firmware/get_reply,
 * file/download_reply.
 */
export type AliyunRoute =
  | 'inform'
  | 'progress'
  | 'request'
  | 'upgrade'
  | 'firmware_get'
  | 'firmware_get_reply'
  | 'file_download'
  | 'file_download_reply';

export const aliyunTopic = {
  inform: (d: DeviceRef) => ota('inform', d),
  progress: (d: DeviceRef) => ota('progress', d),
  request: (d: DeviceRef) => ota('request', d),
  upgrade: (d: DeviceRef) => ota('upgrade', d),
  firmwareGet: (d: DeviceRef) => sys(d, 'thing/ota/firmware/get'),
  firmwareGetReply: (d: DeviceRef) => sys(d, 'thing/ota/firmware/get_reply'),
  fileDownload: (d: DeviceRef) => sys(d, 'thing/file/download'),
  fileDownloadReply: (d: DeviceRef) => sys(d, 'thing/file/download_reply'),
};

/**
 * Server-side filters. Aliyun topics start with `/`, so a shared subscription reads
 * `$share/aloft//ota/device/inform/+/+` (wire-protocols.md, broker notes).
 */
export const ALIYUN_INBOUND_FILTERS: readonly string[] = [
  '/ota/device/inform/+/+',
  '/ota/device/progress/+/+',
  '/ota/device/request/+/+',
  '/sys/+/+/thing/ota/firmware/get',
  '/sys/+/+/thing/file/download',
];

function ota(kind: string, device: DeviceRef): string {
  assertTopicDevice(device);
  return `/ota/device/${kind}/${device.productKey}/${device.deviceName}`;
}

function sys(device: DeviceRef, suffix: string): string {
  assertTopicDevice(device);
  return `/sys/${device.productKey}/${device.deviceName}/${suffix}`;
}

const OTA_ROUTES: Record<string, AliyunRoute> = {
  inform: 'inform',
  progress: 'progress',
  request: 'request',
  upgrade: 'upgrade',
};

const SYS_ROUTES: Record<string, AliyunRoute> = {
  'thing/ota/firmware/get': 'firmware_get',
  'thing/ota/firmware/get_reply': 'firmware_get_reply',
  'thing/file/download': 'file_download',
  'thing/file/download_reply': 'file_download_reply',
};

/** Which Aliyun topic this is and whose, or undefined when it is none of them. */
export function parseAliyunTopic(topic: string): { route: AliyunRoute; device: DeviceRef } | undefined {
  const levels = topic.split('/');
  if (levels[0] !== '') return undefined;
  if (levels[1] === 'ota' && levels[2] === 'device' && levels.length === 6) {
    const route = Object.hasOwn(OTA_ROUTES, levels[3] as string)
      ? OTA_ROUTES[levels[3] as string]
      : undefined;
    const device = deviceFromLevels(levels[4], levels[5]);
    return route && device ? { route, device } : undefined;
  }
  if (levels[1] === 'sys' && levels.length >= 7) {
    const suffix = levels.slice(4).join('/');
    const route = Object.hasOwn(SYS_ROUTES, suffix) ? SYS_ROUTES[suffix] : undefined;
    const device = deviceFromLevels(levels[2], levels[3]);
    return route && device ? { route, device } : undefined;
  }
  return undefined;
}
