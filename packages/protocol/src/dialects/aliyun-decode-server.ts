import type { ServerDecodeResult } from '../codec.js';
import type { JsonObject } from '../json-reader.js';
import { decodeError, isJsonObject, member, memberObject, parseJsonPayload, readId } from '../json-reader.js';
import { readAliyunTask } from './aliyun-task.js';
import { parseAliyunTopic } from './aliyun-topics.js';

/**
 * Server → device Aliyun message, as a device SDK reads it. Total: never throws.
 * The binary block reply on `/thing/file/download_reply` is not JSON: read it with `decodeFileBlockReply`.
 */
export function decodeAliyunServer(topic: string, payload: Uint8Array): ServerDecodeResult {
  const parsed = parseAliyunTopic(topic);
  const route = parsed?.route;
  if (route !== 'upgrade' && route !== 'firmware_get_reply' && route !== 'request') {
    return decodeError('unknown_topic', 'not an Aliyun server-to-device JSON topic');
  }
  const json = parseJsonPayload(payload);
  if (!json.ok) return json;
  if (!isJsonObject(json.value)) return decodeError('invalid_payload', 'payload is not a JSON object');
  const body = json.value;
  if (route === 'upgrade') return readPush(body);
  if (route === 'request' && member(body, 'params') !== undefined) {
    return decodeError('invalid_payload', 'a task request (the device hears its own publish), not a reply');
  }
  return readReply(body, route === 'request' ? '1000' : 200);
}

/** `{"code":"1000","message":"success","id":N,"data":{...}}`. */
function readPush(body: JsonObject): ServerDecodeResult {
  const code = member(body, 'code');
  if (code !== '1000' && code !== 1000)
    return decodeError('invalid_payload', `push code ${JSON.stringify(code)}`);
  const data = memberObject(body, 'data');
  if (!data) return decodeError('invalid_payload', 'data is missing');
  const task = readAliyunTask(data, readId(member(body, 'id')));
  if (typeof task === 'string') return decodeError('invalid_payload', task);
  return { ok: true, message: { kind: 'upgrade', task } };
}

/** get_reply `{"id":..,"code":200,"data":{}}` or the legacy reply; empty `data` means nothing pending. */
function readReply(body: JsonObject, okCode: '1000' | 200): ServerDecodeResult {
  const code = member(body, 'code');
  if (code !== okCode && String(code) !== String(okCode)) {
    return decodeError('invalid_payload', `reply code ${JSON.stringify(code)}`);
  }
  const requestId = readId(member(body, 'id')) ?? 0;
  const data = memberObject(body, 'data');
  if (!data || Object.keys(data).length === 0)
    return { ok: true, message: { kind: 'task_reply', requestId } };
  const task = readAliyunTask(data, undefined);
  if (typeof task === 'string') return decodeError('invalid_payload', task);
  return { ok: true, message: { kind: 'task_reply', requestId, task } };
}
