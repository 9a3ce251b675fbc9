import type { ServerDecodeResult } from '../codec.js';
import { md5Hex, requireMd5, sha256Hex } from '../digests.js';
import type { JsonObject } from '../json-reader.js';
import {
  decodeError,
  isJsonObject,
  member,
  parseJsonPayload,
  readInteger,
  readString,
} from '../json-reader.js';
import { objectIdLike } from '../message-id.js';
import type { DeviceRef, OutboundMessage, TaskRequest, UpgradeTask } from '../vocabulary.js';
import { readWireName } from '../wire-values.js';
import { iothubTopic, parseIothubTopic } from './iothub-topics.js';

/**
 * The `ota_upgrade` command: `{"type":"firmware","version":"1.1","url":"...","md5":"...","size":1000}`
 * (course ch. 33, `perform_ota.js`), `type` being the module. `sha256` and `signature` are added when known:
 * the course's SDK passes the payload to the app untouched, so extra keys cost nothing.
 * The topic carries the task id as request id and `expiresAt` (unix seconds) when the task has one.
 */
export function encodeIothubUpgrade(device: DeviceRef, task: UpgradeTask): OutboundMessage {
  const body: JsonObject = {
    type: task.module,
    version: task.version,
    url: task.url,
    md5: requireMd5(task, 'iothub'),
    size: task.size,
  };
  const sha256 = sha256Hex(task.sha256);
  if (sha256 !== undefined) body.sha256 = sha256;
  if (task.signature !== undefined) body.signature = task.signature;
  const requestId = task.id === undefined ? objectIdLike() : String(task.id);
  return {
    topic: iothubTopic.command(device, requestId, task.expiresAt),
    payload: JSON.stringify(body),
    qos: 1,
  };
}

/**
 * IotHub devices never ask for a task (the server re-sends the command when a status reports an old version),
 * so no `TaskRequest` decodes from this dialect. A pending task is answered as a push.
 */
export function encodeIothubTaskReply(
  device: DeviceRef,
  _request: TaskRequest,
  task: UpgradeTask | undefined,
): OutboundMessage {
  if (!task) throw new RangeError('iothub has no "nothing pending" reply: devices of this dialect never ask');
  return encodeIothubUpgrade(device, task);
}

/** Server → device IotHub command, as a device SDK reads it. Total: never throws. */
export function decodeIothubServer(topic: string, payload: Uint8Array): ServerDecodeResult {
  const parsed = parseIothubTopic(topic);
  if (parsed?.route !== 'command')
    return decodeError('unknown_topic', 'not an IotHub ota_upgrade command topic');
  if (parsed.encoding !== 'json')
    return decodeError('invalid_payload', `encoding ${parsed.encoding} is not json`);
  const json = parseJsonPayload(payload);
  if (!json.ok) return json;
  if (!isJsonObject(json.value)) return decodeError('invalid_payload', 'payload is not a JSON object');
  const body = json.value;
  const module = readWireName(member(body, 'type'));
  const version = readWireName(member(body, 'version'));
  const url = readString(member(body, 'url'));
  const size = readInteger(member(body, 'size'));
  const md5 = md5Hex(readString(member(body, 'md5')));
  if (!module || !version || url === undefined || size === undefined || size < 0 || !md5) {
    return decodeError('invalid_payload', 'ota_upgrade lacks a valid type/version/url/size/md5');
  }
  const task: UpgradeTask = { module, version, url, size, md5, digestAlgorithm: 'md5', id: parsed.requestId };
  const sha256 = sha256Hex(readString(member(body, 'sha256')));
  if (sha256 !== undefined) task.sha256 = sha256;
  const signature = readString(member(body, 'signature'));
  if (signature) task.signature = signature;
  if (parsed.expiresAt !== undefined) task.expiresAt = parsed.expiresAt;
  return { ok: true, message: { kind: 'upgrade', task } };
}
