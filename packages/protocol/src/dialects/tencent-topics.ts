import { assertTopicDevice, deviceFromLevels } from '../topic.js';
import type { DeviceRef } from '../vocabulary.js';

/**
 * Tencent IoT Hub / IoT Explorer OTA topics (doc "固件升级"; C SDK `ota_mqtt.c`):
 * device → server `$ota/report/${productId}/${deviceName}`, server → device `$ota/update/...`
 * (the SDK subscribes at QoS 1). Shared subscription: `$share/aloft/$ota/report/+/+`.
 */
export const tencentTopic = {
  report: (d: DeviceRef) => topic('report', d),
  update: (d: DeviceRef) => topic('update', d),
};

export const TENCENT_INBOUND_FILTERS: readonly string[] = ['$ota/report/+/+'];

function topic(kind: 'report' | 'update', device: DeviceRef): string {
  assertTopicDevice(device);
  return `$ota/${kind}/${device.productKey}/${device.deviceName}`;
}

/** Which Tencent OTA topic this is and whose, or undefined. */
export function parseTencentTopic(
  topic: string,
): { route: 'report' | 'update'; device: DeviceRef } | undefined {
  const levels = topic.split('/');
  if (levels.length !== 4 || levels[0] !== '$ota') return undefined;
  const route = levels[1];
  if (route !== 'report' && route !== 'update') return undefined;
  const device = deviceFromLevels(levels[2], levels[3]);
  return device && { route, device };
}
