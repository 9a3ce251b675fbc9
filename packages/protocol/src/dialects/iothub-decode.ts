import type { DecodeResult } from '../codec.js';
import type { JsonObject } from '../json-reader.js';
import { decodeError, isJsonObject, member, parseJsonPayload, readNumber } from '../json-reader.js';
import type { DeviceMessage, ProgressReport, UpgradeErrorCode, VersionReport } from '../vocabulary.js';
import { readMessage, readPercent, readWireName } from '../wire-values.js';
import { parseIothubTopic } from './iothub-topics.js';

/**
 * `progress` error codes (course ch. 31/33, `OTAProgress`): -1 download failed (`downloadError`),
 * -2 md5 check failed (`checkMD5Error`), -3 install failed (`installError`), -4 other (`error`).
 */
const PROGRESS_ERRORS: Readonly<Record<number, UpgradeErrorCode>> = {
  [-1]: 'download_failed',
  [-2]: 'verify_failed',
  [-3]: 'install_failed',
  [-4]: 'other',
};

/** A status key naming a module's version: `firmware_ver` is the version of module `firmware`. */
const VERSION_SUFFIX = '_ver';

/** Device → server IotHub message to vocabulary. Total: never throws. */
export function decodeIothub(topic: string, payload: Uint8Array): DecodeResult {
  const parsed = parseIothubTopic(topic);
  if (!parsed || parsed.route === 'command')
    return decodeError('unknown_topic', 'not an IotHub device topic');
  const json = parseJsonPayload(payload);
  if (!json.ok) return json;
  if (!isJsonObject(json.value)) return decodeError('invalid_payload', 'payload is not a JSON object');
  const messages = parsed.route === 'status' ? readStatus(json.value) : readOtaStatus(json.value);
  if (typeof messages === 'string') return decodeError('invalid_payload', messages);
  return { ok: true, device: parsed.device, messages };
}

/**
 * `{"type":"firmware","version":"1.1","progress":70,"desc":"downloading"}`. The course reports only download
 * percents (the app may be stopped while installing), so 0..100 is the downloading phase.
 */
function readOtaStatus(body: JsonObject): DeviceMessage[] | string {
  const progress = readNumber(member(body, 'progress'));
  if (progress === undefined) return 'progress is missing or not a number';
  const report: ProgressReport =
    progress < 0
      ? { kind: 'progress', phase: 'failed', error: PROGRESS_ERRORS[Math.trunc(progress)] ?? 'other' }
      : { kind: 'progress', phase: 'downloading', percent: readPercent(progress) as number };
  const type = member(body, 'type');
  if (type !== undefined && type !== null && type !== '') {
    const module = readWireName(type);
    if (module === undefined) return 'type is not a valid module name';
    report.module = module;
  }
  const rawVersion = member(body, 'version');
  if (rawVersion !== undefined && rawVersion !== null && rawVersion !== '') {
    const version = readWireName(rawVersion);
    if (version === undefined) return 'version is invalid';
    report.version = version;
  }
  const message = readMessage(member(body, 'desc'));
  if (message !== undefined) report.message = message;
  return [report];
}

/**
 * `{"firmware_ver":"1.1","app_ver":"1.1"}`: one version report per `<type>_ver` key. Status messages carry
 * other keys too; those, and `_ver` keys whose value is not a valid version, are not version reports.
 */
function readStatus(body: JsonObject): DeviceMessage[] {
  const reports: VersionReport[] = [];
  for (const [key, value] of Object.entries(body)) {
    const module = key.endsWith(VERSION_SUFFIX) ? key.slice(0, -VERSION_SUFFIX.length) : undefined;
    const version = readWireName(value);
    if (module !== undefined && version !== undefined && readWireName(module) !== undefined) {
      reports.push({ kind: 'version', module, version });
    }
  }
  return reports;
}
