import type { DecodeResult } from '../codec.js';
import type { JsonObject } from '../json-reader.js';
import {
  decodeError,
  isJsonObject,
  member,
  memberObject,
  parseJsonPayload,
  readId,
  readNumber,
} from '../json-reader.js';
import type { DeviceMessage, ProgressReport, UpgradeErrorCode } from '../vocabulary.js';
import { DEFAULT_MODULE } from '../vocabulary.js';
import { readMessage, readPercent, readWireName } from '../wire-values.js';
import { readFileBlockRequest } from './aliyun-file-block.js';
import type { AliyunRoute } from './aliyun-topics.js';
import { parseAliyunTopic } from './aliyun-topics.js';

type Reader = (body: JsonObject) => DeviceMessage[] | string;

/**
 * Aliyun `step` error codes (doc "设备OTA开发"; LinkSDK `aiot_ota_protocol_errcode_t`):
 * -1 upgrade failed, -2 download failed, -3 verify (checksum) failed, -4 flash/burn failed.
 */
const STEP_ERRORS: Readonly<Record<number, UpgradeErrorCode>> = {
  [-1]: 'other',
  [-2]: 'download_failed',
  [-3]: 'verify_failed',
  [-4]: 'install_failed',
};

/** Device → server Aliyun message to vocabulary. Total: never throws. */
export function decodeAliyun(topic: string, payload: Uint8Array): DecodeResult {
  const parsed = parseAliyunTopic(topic);
  const reader = parsed && readerFor(parsed.route);
  if (!parsed || !reader) return decodeError('unknown_topic', 'not an Aliyun device-to-server topic');
  const json = parseJsonPayload(payload);
  if (!json.ok) return json;
  if (!isJsonObject(json.value)) return decodeError('invalid_payload', 'payload is not a JSON object');
  const messages = reader(json.value);
  if (typeof messages === 'string') return decodeError('invalid_payload', messages);
  return { ok: true, device: parsed.device, messages };
}

function readerFor(route: AliyunRoute): Reader | undefined {
  switch (route) {
    case 'inform':
      return readInform;
    case 'progress':
      return readProgress;
    case 'request':
      return readLegacyRequest;
    case 'firmware_get':
      return readFirmwareGet;
    case 'file_download':
      return readFileBlockRequest;
    default:
      return undefined;
  }
}

/** `{"id":"123","params":{"version":"1.0.1","module":"MCU"}}`; no module means `default`. */
function readInform(body: JsonObject): DeviceMessage[] | string {
  const params = memberObject(body, 'params');
  if (!params) return 'params is missing';
  const version = readWireName(member(params, 'version'));
  if (version === undefined) return 'params.version is missing or invalid';
  const module = readModule(params);
  if (module === null) return 'params.module is invalid';
  return [{ kind: 'version', module: module ?? DEFAULT_MODULE, version }];
}

/**
 * `{"id":"123","params":{"step":"-1","desc":"...","module":"MCU"}}`. `step` is a string or a number:
 * 0..100 percent (LinkSDK reports 0 when a download starts), negative an error code. Aliyun cannot tell
 * download from install, so every percent is the downloading phase.
 */
function readProgress(body: JsonObject): DeviceMessage[] | string {
  const params = memberObject(body, 'params');
  if (!params) return 'params is missing';
  const step = readNumber(member(params, 'step'));
  if (step === undefined) return 'params.step is missing or not a number';
  const module = readModule(params);
  if (module === null) return 'params.module is invalid';
  const report: ProgressReport =
    step < 0
      ? { kind: 'progress', phase: 'failed', error: STEP_ERRORS[Math.trunc(step)] ?? 'other' }
      : { kind: 'progress', phase: 'downloading', percent: readPercent(step) as number };
  if (module !== undefined) report.module = module;
  const message = readMessage(member(params, 'desc'));
  if (message !== undefined) report.message = message;
  return [report];
}

/**
 * Legacy pull (SDK v3): `{"id":..,"params":{"version":..}}`. The server's reply goes back on the same topic,
 * so a message there without `params` but with `code`/`data` is that reply echoed to the server: nothing to do.
 */
function readLegacyRequest(body: JsonObject): DeviceMessage[] | string {
  const params = memberObject(body, 'params');
  if (!params) {
    return member(body, 'data') !== undefined || member(body, 'code') !== undefined
      ? []
      : 'params is missing';
  }
  const version = member(params, 'version');
  const currentVersion = readWireName(version);
  if (version !== undefined && currentVersion === undefined) return 'params.version is invalid';
  return [
    {
      kind: 'task_request',
      form: 'legacy_request',
      requestId: readId(member(body, 'id')) ?? 0,
      ...(currentVersion !== undefined && { currentVersion }),
    },
  ];
}

/**
 * `{"id":"123","version":"1.0","params":{"module":"MCU"},"method":"thing.ota.firmware.get"}`;
 * LinkSDK `aiot_ota_query_firmware` sends just `{"id":N, "params":{}}`.
 */
function readFirmwareGet(body: JsonObject): DeviceMessage[] | string {
  const params = memberObject(body, 'params') ?? {};
  const module = readModule(params);
  if (module === null) return 'params.module is invalid';
  return [
    {
      kind: 'task_request',
      form: 'firmware_get',
      requestId: readId(member(body, 'id')) ?? 0,
      ...(module !== undefined && { module }),
    },
  ];
}

/** The `module` member: undefined when absent or empty, null when present but not a valid name. */
function readModule(params: JsonObject): string | undefined | null {
  const raw = member(params, 'module');
  if (raw === undefined || raw === null || raw === '') return undefined;
  return readWireName(raw) ?? null;
}
