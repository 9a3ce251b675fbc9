import type { DecodeResult } from '../codec.js';
import type { JsonObject } from '../json-reader.js';
import {
  decodeError,
  isJsonObject,
  member,
  memberObject,
  parseJsonPayload,
  readInteger,
  readString,
} from '../json-reader.js';
import type { DeviceMessage, ProgressReport, UpgradeErrorCode } from '../vocabulary.js';
import { DEFAULT_MODULE } from '../vocabulary.js';
import { readMessage, readPercent, readWireName } from '../wire-values.js';
import { parseTencentTopic } from './tencent-topics.js';

/**
 * `result_code` of a `fail` report (doc "固件升级"; C SDK `IOT_OTAReportType`): -1 download timeout,
 * -2 file does not exist (HTTP 404), -3 signature expired (HTTP 403), -4 MD5 mismatch, -5 update (burn)
 * failed. The C SDK writes `"result_msg":"time_out"` for every one of them, so the code alone is trusted.
 */
export const TENCENT_RESULT_CODES: Readonly<Record<number, UpgradeErrorCode>> = {
  [-1]: 'timeout',
  [-2]: 'not_found',
  [-3]: 'url_expired',
  [-4]: 'verify_failed',
  [-5]: 'install_failed',
};

/** Device → server Tencent message to vocabulary. Total: never throws. */
export function decodeTencent(topic: string, payload: Uint8Array): DecodeResult {
  const parsed = parseTencentTopic(topic);
  if (parsed?.route !== 'report') return decodeError('unknown_topic', 'not a Tencent $ota/report topic');
  const json = parseJsonPayload(payload);
  if (!json.ok) return json;
  if (!isJsonObject(json.value)) return decodeError('invalid_payload', 'payload is not a JSON object');
  const messages = readReport(json.value);
  if (typeof messages === 'string') return decodeError('invalid_payload', messages);
  return { ok: true, device: parsed.device, messages };
}

function readReport(body: JsonObject): DeviceMessage[] | string {
  const type = readString(member(body, 'type'));
  const report = memberObject(body, 'report');
  if (!report) return 'report is missing';
  if (type === 'report_version') return readVersion(report);
  if (type === 'report_progress') return readProgress(report);
  return `unknown type ${JSON.stringify(type ?? null)}`;
}

/** `{"type":"report_version","report":{"version":"0.1"}}`. Tencent OTA knows no modules. */
function readVersion(report: JsonObject): DeviceMessage[] | string {
  const version = readWireName(member(report, 'version'));
  if (version === undefined) return 'report.version is missing or invalid';
  return [{ kind: 'version', module: DEFAULT_MODULE, version }];
}

/**
 * `{"type":"report_progress","report":{"progress":{"state":"downloading","percent":"10","result_code":"0",
 * "result_msg":""},"version":"0.2"}}`. `downloading` → downloading, `burning` → installing,
 * `done` → installing at 100 (NOT success: only the next `report_version` proves it), `fail` → failed.
 */
function readProgress(report: JsonObject): DeviceMessage[] | string {
  const progress = memberObject(report, 'progress');
  if (!progress) return 'report.progress is missing';
  const state = readString(member(progress, 'state'));
  let out: ProgressReport;
  switch (state) {
    case 'downloading': {
      out = { kind: 'progress', phase: 'downloading' };
      const raw = member(progress, 'percent');
      if (raw !== undefined) {
        const percent = readPercent(raw);
        if (percent === undefined) return 'progress.percent is not a percent';
        out.percent = percent;
      }
      break;
    }
    case 'burning':
      out = { kind: 'progress', phase: 'installing' };
      break;
    case 'done':
      out = { kind: 'progress', phase: 'installing', percent: 100 };
      break;
    case 'fail': {
      const code = readInteger(member(progress, 'result_code'));
      out = {
        kind: 'progress',
        phase: 'failed',
        error: (code !== undefined && TENCENT_RESULT_CODES[code]) || 'other',
      };
      break;
    }
    default:
      return `unknown progress state ${JSON.stringify(state ?? null)}`;
  }
  const rawVersion = member(report, 'version');
  const version = readWireName(rawVersion);
  if (rawVersion !== undefined && rawVersion !== '' && version === undefined)
    return 'report.version is invalid';
  if (version !== undefined) out.version = version;
  const message = readMessage(member(progress, 'result_msg'));
  if (message !== undefined) out.message = message;
  return [out];
}
