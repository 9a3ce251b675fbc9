import type { ServerDecodeResult } from '../codec.js';
import { md5Hex, requireMd5 } from '../digests.js';
import type { JsonObject } from '../json-reader.js';
import {
  decodeError,
  isJsonObject,
  member,
  parseJsonPayload,
  readInteger,
  readString,
} from '../json-reader.js';
import type { DeviceRef, OutboundMessage, TaskRequest, UpgradeTask, VersionReport } from '../vocabulary.js';
import { DEFAULT_MODULE } from '../vocabulary.js';
import { readWireName } from '../wire-values.js';
import { parseTencentTopic, tencentTopic } from './tencent-topics.js';

/**
 * `{"type":"update_firmware","file_size":708482,"md5sum":"<32 hex>","url":"https://...","version":"0.2"}`
 * (doc "固件升级"; C SDK `ota_lib.c` `qcloud_otalib_get_params` reads exactly these keys, `md5sum` as 32 chars).
 * Tencent devices verify md5 only, so the task must carry one.
 */
export function encodeTencentUpgrade(device: DeviceRef, task: UpgradeTask): OutboundMessage {
  const body = {
    type: 'update_firmware',
    file_size: task.size,
    md5sum: requireMd5(task, 'tencent'),
    url: task.url,
    version: task.version,
  };
  return { topic: tencentTopic.update(device), payload: JSON.stringify(body), qos: 1 };
}

/**
 * `{"type":"report_version_rsp","result_code":0,"result_msg":"success","version":"0.1"}`, as the platform
 * answers (the C SDK logs this exact message in `ota_mqtt.c`). `result_code` is an integer here.
 */
export function encodeTencentVersionAck(device: DeviceRef, report: VersionReport): OutboundMessage {
  const body = { type: 'report_version_rsp', result_code: 0, result_msg: 'success', version: report.version };
  return { topic: tencentTopic.update(device), payload: JSON.stringify(body), qos: 1 };
}

/**
 * Tencent devices never ask for a task (the platform re-sends `update_firmware` when a device reports an old
 * version), so no `TaskRequest` ever decodes from this dialect. A pending task is answered as a push.
 */
export function encodeTencentTaskReply(
  device: DeviceRef,
  _request: TaskRequest,
  task: UpgradeTask | undefined,
): OutboundMessage {
  if (!task)
    throw new RangeError('tencent has no "nothing pending" reply: devices of this dialect never ask');
  return encodeTencentUpgrade(device, task);
}

/** Server → device Tencent message, as a device SDK reads it. Total: never throws. */
export function decodeTencentServer(topic: string, payload: Uint8Array): ServerDecodeResult {
  if (parseTencentTopic(topic)?.route !== 'update') {
    return decodeError('unknown_topic', 'not a Tencent $ota/update topic');
  }
  const json = parseJsonPayload(payload);
  if (!json.ok) return json;
  if (!isJsonObject(json.value)) return decodeError('invalid_payload', 'payload is not a JSON object');
  const body = json.value;
  const type = readString(member(body, 'type'));
  if (type === 'update_firmware') return readUpdate(body);
  if (type === 'report_version_rsp') {
    const version = readWireName(member(body, 'version'));
    if (version === undefined) return decodeError('invalid_payload', 'version is missing or invalid');
    return { ok: true, message: { kind: 'version_ack', version } };
  }
  return decodeError('invalid_payload', `unknown type ${JSON.stringify(type ?? null)}`);
}

function readUpdate(body: JsonObject): ServerDecodeResult {
  const version = readWireName(member(body, 'version'));
  const url = readString(member(body, 'url'));
  const size = readInteger(member(body, 'file_size'));
  const md5 = md5Hex(readString(member(body, 'md5sum')));
  if (version === undefined || url === undefined || size === undefined || size < 0 || md5 === undefined) {
    return decodeError('invalid_payload', 'update_firmware lacks a valid version/url/file_size/md5sum');
  }
  const task: UpgradeTask = { module: DEFAULT_MODULE, version, url, size, md5, digestAlgorithm: 'md5' };
  return { ok: true, message: { kind: 'upgrade', task } };
}
