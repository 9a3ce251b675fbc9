import { md5Hex, requireChosenDigest, sha256Hex } from '../digests.js';
import type { JsonObject, JsonValue } from '../json-reader.js';
import { member, memberObject, readInteger, readString } from '../json-reader.js';
import type { UpgradeTask } from '../vocabulary.js';
import { DEFAULT_MODULE } from '../vocabulary.js';
import { readWireName } from '../wire-values.js';

/** Aliyun limits `extData` to 10 keys (doc "推送OTA升级包到设备"). */
export const MAX_EXT_DATA_KEYS = 10;

/**
 * The `data` object of an Aliyun upgrade push / get_reply / legacy reply.
 * - `signMethod` is exactly `Md5` or `SHA256`: LinkSDK 4 `aiot_ota_api.c` (`_ota_mqtt_process`) accepts
 *   `"SHA256"`, `"Sha256"` and `"Md5"` and rejects anything else, including `"MD5"`.
 * - `sign` is 32 hex digits for Md5 and 64 for SHA256 (`_process_single_file` checks the length).
 * - `md5` is what SDK v3 reads; it is sent whenever known.
 * - MQTT-download variant: `dProtocol`/`streamId`/`streamFileId`. The URL stays in too: LinkSDK ignores it
 *   when `dProtocol` is `mqtt`, and SDK v3 (which knows no MQTT download) still finds it.
 */
export function aliyunTaskData(task: UpgradeTask): JsonObject {
  const sign = requireChosenDigest(task, 'aliyun');
  const data: JsonObject = { size: task.size, version: task.version, url: task.url };
  if (task.mqttStream) {
    data.dProtocol = 'mqtt';
    data.streamId = task.mqttStream.streamId;
    data.streamFileId = task.mqttStream.fileId;
  }
  if (task.isDiff) data.isDiff = 1;
  const md5 = md5Hex(task.md5);
  if (md5 !== undefined) data.md5 = md5;
  data.sign = sign;
  data.signMethod = task.digestAlgorithm === 'md5' ? 'Md5' : 'SHA256';
  if (task.signature !== undefined) data.digestsign = task.signature;
  data.module = task.module;
  if (task.extData && Object.keys(task.extData).length > 0) {
    const keys = Object.keys(task.extData);
    if (keys.length > MAX_EXT_DATA_KEYS) {
      throw new RangeError(`aliyun extData takes at most ${MAX_EXT_DATA_KEYS} keys (got ${keys.length})`);
    }
    data.extData = { ...task.extData };
  }
  return data;
}

/**
 * The task inside an Aliyun `data` object, as a device SDK reads it, or the reason it is unusable.
 * Lenient where devices are: numbers as strings, `signMethod` in any case, SDK v3 pushes with only `md5`.
 */
export function readAliyunTask(data: JsonObject, id: string | number | undefined): UpgradeTask | string {
  const version = readWireName(member(data, 'version'));
  if (version === undefined) return 'data.version is missing or invalid';
  const size = readInteger(member(data, 'size'));
  if (size === undefined || size < 0) return 'data.size is missing or invalid';

  const dProtocol = readString(member(data, 'dProtocol'));
  const streamId = readInteger(member(data, 'streamId'));
  const fileId = readInteger(member(data, 'streamFileId'));
  const overMqtt = dProtocol === 'mqtt' && streamId !== undefined && fileId !== undefined;
  const url = readString(member(data, 'url'));
  if (url === undefined && !overMqtt) return 'data.url is missing';

  const method = readString(member(data, 'signMethod'))?.toLowerCase();
  const sign = readString(member(data, 'sign'));
  const md5 = md5Hex(readString(member(data, 'md5')));
  const task: UpgradeTask = {
    module: readWireName(member(data, 'module')) ?? DEFAULT_MODULE,
    version,
    url: url ?? '',
    size,
    digestAlgorithm: method === 'sha256' ? 'sha256' : 'md5',
  };
  if (method === 'sha256') {
    const sha256 = sha256Hex(sign);
    if (sha256 === undefined) return 'data.sign is not a sha256 digest';
    task.sha256 = sha256;
    if (md5 !== undefined) task.md5 = md5;
  } else if (method === undefined || method === 'md5') {
    const digest = md5 ?? md5Hex(sign);
    if (digest === undefined) return 'data.md5/sign is not an md5 digest';
    task.md5 = digest;
  } else {
    return `unknown signMethod ${JSON.stringify(method)}`;
  }

  if (overMqtt) task.mqttStream = { streamId, fileId };
  const isDiff = member(data, 'isDiff');
  if (isDiff === true || readInteger(isDiff) === 1) task.isDiff = true;
  const digestsign = readString(member(data, 'digestsign'));
  if (digestsign !== undefined && digestsign.length > 0) task.signature = digestsign;
  const extData = memberObject(data, 'extData');
  if (extData) task.extData = stringValues(extData);
  if (id !== undefined) task.id = id;
  return task;
}

function stringValues(obj: JsonObject): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(obj)) {
    if (key !== '__proto__') out[key] = asText(value);
  }
  return out;
}

function asText(value: JsonValue): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}
