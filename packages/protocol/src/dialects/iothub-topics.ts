import { fnv1a32, objectIdLike } from '../message-id.js';
import { assertTopicDevice, deviceFromLevels, isTopicLevel } from '../topic.js';
import type { DeviceRef } from '../vocabulary.js';

/**
 * IotHub course topics (seed documents ch. 31/33):
 * - device → server `update_ota_status/${productName}/${deviceName}/${messageId}` (progress) and
 *   `update_status/${productName}/${deviceName}/${messageId}` (status, carries `<type>_ver` versions);
 * - server → device `cmd/${productName}/${deviceName}/${commandName}/${encoding}/${requestId}/${expiresAt}`,
 *   the device SDK subscribing with a trailing `#` so `expiresAt` may be left out.
 */
export const IOTHUB_COMMAND = 'ota_upgrade';
/** The course's SDK names system commands with a `$` (`commandName == "$ota_upgrade"`); both are understood. */
const COMMAND_NAMES = new Set([IOTHUB_COMMAND, `$${IOTHUB_COMMAND}`]);

export const IOTHUB_INBOUND_FILTERS: readonly string[] = ['update_ota_status/+/+/+', 'update_status/+/+/+'];

export const iothubTopic = {
  otaStatus: (d: DeviceRef, messageId: string = objectIdLike()) => upload('update_ota_status', d, messageId),
  status: (d: DeviceRef, messageId: string = objectIdLike()) => upload('update_status', d, messageId),
  /** ACL filters covering every message id. */
  otaStatusFilter: (d: DeviceRef) => upload('update_ota_status', d, '+'),
  statusFilter: (d: DeviceRef) => upload('update_status', d, '+'),
  commandFilter: (d: DeviceRef) => {
    assertTopicDevice(d);
    return `cmd/${d.productKey}/${d.deviceName}/#`;
  },
  command: (d: DeviceRef, requestId: string, expiresAt: number | undefined) => {
    assertTopicDevice(d);
    const base = `cmd/${d.productKey}/${d.deviceName}/${IOTHUB_COMMAND}/json/${topicSafeId(requestId)}`;
    return expiresAt === undefined ? base : `${base}/${Math.floor(expiresAt)}`;
  },
};

function upload(kind: string, device: DeviceRef, messageId: string): string {
  assertTopicDevice(device);
  return `${kind}/${device.productKey}/${device.deviceName}/${messageId}`;
}

/** A request id usable as one topic level; anything else is replaced by its hash. */
function topicSafeId(id: string): string {
  return isTopicLevel(id) && id.length <= 64 ? id : fnv1a32(id).toString(16).padStart(8, '0');
}

export type IothubTopic =
  | { route: 'ota_status' | 'status'; device: DeviceRef }
  | { route: 'command'; device: DeviceRef; requestId: string; encoding: string; expiresAt?: number };

/** Which IotHub OTA topic this is and whose, or undefined. */
export function parseIothubTopic(topic: string): IothubTopic | undefined {
  const levels = topic.split('/');
  const device = deviceFromLevels(levels[1], levels[2]);
  if (!device) return undefined;
  if (levels.length === 4 && (levels[3] as string).length > 0) {
    if (levels[0] === 'update_ota_status') return { route: 'ota_status', device };
    if (levels[0] === 'update_status') return { route: 'status', device };
    return undefined;
  }
  if (levels[0] !== 'cmd' || (levels.length !== 6 && levels.length !== 7)) return undefined;
  if (!COMMAND_NAMES.has(levels[3] as string)) return undefined;
  const requestId = levels[5] as string;
  const parsed: IothubTopic = { route: 'command', device, requestId, encoding: levels[4] as string };
  if (levels.length === 7) {
    const expiresAt = Number(levels[6]);
    if (!/^\d{1,15}$/.test(levels[6] as string)) return undefined;
    parsed.expiresAt = expiresAt;
  }
  return parsed;
}
