import { fnv1a32, nextMessageId } from '../message-id.js';
import type { DeviceRef, OutboundMessage, TaskRequest, UpgradeTask } from '../vocabulary.js';
import { aliyunTaskData } from './aliyun-task.js';
import { aliyunTopic } from './aliyun-topics.js';

/**
 * Upgrade push on `/ota/device/upgrade/${pk}/${dn}` (doc "设备OTA开发", step 3):
 * `{"code":"1000","message":"success","id":1507707025,"data":{...}}`. `code` is the STRING "1000" and
 * `message` must be "success" (SDK v3 checks it); `id` is a number.
 */
export function encodeAliyunUpgrade(device: DeviceRef, task: UpgradeTask): OutboundMessage {
  const body = { code: '1000', message: 'success', id: pushId(task.id), data: aliyunTaskData(task) };
  return { topic: aliyunTopic.upgrade(device), payload: JSON.stringify(body), qos: 1 };
}

/**
 * Answer a task request in the shape it was asked in.
 * - `firmware_get` → `/sys/${pk}/${dn}/thing/ota/firmware/get_reply`: `{"id":..,"code":200,"data":{...}}`,
 *   `code` the INTEGER 200, `"data":{}` when nothing is pending.
 * - `legacy_request` → the same `/ota/device/request` topic, in the push shape (it must carry `url`);
 *   with nothing pending, `"data":{}`, which SDK v3 ignores for lack of a URL.
 */
export function encodeAliyunTaskReply(
  device: DeviceRef,
  request: TaskRequest,
  task: UpgradeTask | undefined,
): OutboundMessage {
  const data = task ? aliyunTaskData(task) : {};
  if (request.form === 'legacy_request') {
    const body = { code: '1000', message: 'success', id: request.requestId, data };
    return { topic: aliyunTopic.request(device), payload: JSON.stringify(body), qos: 1 };
  }
  const body = { id: request.requestId, code: 200, data };
  return { topic: aliyunTopic.firmwareGetReply(device), payload: JSON.stringify(body), qos: 1 };
}

/** The push carries a numeric id; a textual task id becomes a stable number. */
function pushId(id: string | number | undefined): number {
  if (typeof id === 'number' && Number.isSafeInteger(id)) return id;
  if (typeof id === 'string' && /^\d{1,15}$/.test(id)) return Number(id);
  if (typeof id === 'string') return fnv1a32(id) & 0x7fffffff;
  return nextMessageId();
}
