import type { JsonObject } from '../json-reader.js';
import { nextMessageId } from '../message-id.js';
import type {
  DeviceRef,
  OutboundMessage,
  ProgressReport,
  TaskRequest,
  UpgradeErrorCode,
  VersionReport,
} from '../vocabulary.js';
import { DEFAULT_MODULE } from '../vocabulary.js';
import { aliyunTopic } from './aliyun-topics.js';

/**
 * Error code → `step`, the inverse of the decoder's table. Aliyun has no codes for timeouts, a missing file
 * or an expired URL: they are download failures (-2).
 */
const ERROR_STEPS: Readonly<Record<UpgradeErrorCode, number>> = {
  other: -1,
  download_failed: -2,
  timeout: -2,
  not_found: -2,
  url_expired: -2,
  verify_failed: -3,
  install_failed: -4,
};

/** Device side: `{"id":"N","params":{"version":"1.0.1","module":"MCU"}}` (module omitted for `default`). */
export function encodeAliyunVersion(device: DeviceRef, report: VersionReport): OutboundMessage {
  const params: JsonObject = { version: report.version };
  if (report.module !== DEFAULT_MODULE) params.module = report.module;
  return publish(aliyunTopic.inform(device), { id: String(nextMessageId()), params });
}

/**
 * Device side: `{"id":"N","params":{"step":"50","desc":"","module":"MCU"}}`, `step` as a string like LinkSDK's
 * `aiot_download_report_progress`. Aliyun has only download percents, so verifying and installing are sent as
 * step 100 (the download is complete by then); success is proven by the next version report, never by this.
 */
export function encodeAliyunProgress(device: DeviceRef, report: ProgressReport): OutboundMessage {
  const params: JsonObject = { step: String(stepOf(report)), desc: report.message ?? '' };
  if (report.module !== undefined) params.module = report.module;
  return publish(aliyunTopic.progress(device), { id: String(nextMessageId()), params });
}

function stepOf(report: ProgressReport): number {
  switch (report.phase) {
    case 'failed':
      return ERROR_STEPS[report.error ?? 'other'];
    case 'downloading':
      return Math.max(0, Math.min(100, Math.trunc(report.percent ?? 0)));
    default:
      return 100;
  }
}

/**
 * Device side task request.
 * - `firmware_get`: `{"id":"123","version":"1.0","params":{"module":"MCU"},"method":"thing.ota.firmware.get"}`.
 * - `legacy_request` (SDK v3): `{"id":0,"params":{"version":"1.0"}}` on `/ota/device/request/${pk}/${dn}`.
 */
export function encodeAliyunTaskRequest(device: DeviceRef, request: TaskRequest): OutboundMessage {
  if (request.form === 'legacy_request') {
    const params: JsonObject = {};
    if (request.currentVersion !== undefined) params.version = request.currentVersion;
    return publish(aliyunTopic.request(device), { id: request.requestId, params });
  }
  const params: JsonObject = {};
  if (request.module !== undefined) params.module = request.module;
  return publish(aliyunTopic.firmwareGet(device), {
    id: request.requestId,
    version: '1.0',
    params,
    method: 'thing.ota.firmware.get',
  });
}

/** QoS 1 although LinkSDK publishes at 0: a lost version report is a lost success. */
function publish(topic: string, body: JsonObject): OutboundMessage {
  return { topic, payload: JSON.stringify(body), qos: 1 };
}
