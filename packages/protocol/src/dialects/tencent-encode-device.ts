import type { JsonObject } from '../json-reader.js';
import type {
  DeviceRef,
  OutboundMessage,
  ProgressReport,
  UpgradeErrorCode,
  VersionReport,
} from '../vocabulary.js';
import { tencentTopic } from './tencent-topics.js';

/**
 * Error code → `result_code`, the inverse of `TENCENT_RESULT_CODES`. A generic download failure is reported as
 * the download timeout (-1), anything unclassified as the update failure (-5).
 */
const RESULT_CODES: Readonly<Record<UpgradeErrorCode, number>> = {
  timeout: -1,
  download_failed: -1,
  not_found: -2,
  url_expired: -3,
  verify_failed: -4,
  install_failed: -5,
  other: -5,
};

/** Device side: `{"type":"report_version","report":{"version":"0.1"}}` (the module is not carried). */
export function encodeTencentVersion(device: DeviceRef, report: VersionReport): OutboundMessage {
  return publish(device, { type: 'report_version', report: { version: report.version } });
}

/**
 * Device side `report_progress`, strings for `percent` and `result_code` like the C SDK's
 * `qcloud_otalib_gen_report_msg`. Tencent has no verifying state: a device verifying has finished
 * downloading (downloading 100). Installing at 100 is `done`, below that `burning`.
 */
export function encodeTencentProgress(device: DeviceRef, report: ProgressReport): OutboundMessage {
  const progress: JsonObject = {};
  switch (report.phase) {
    case 'downloading':
      progress.state = 'downloading';
      progress.percent = String(Math.max(0, Math.min(100, Math.trunc(report.percent ?? 0))));
      progress.result_code = '0';
      break;
    case 'verifying':
      progress.state = 'downloading';
      progress.percent = '100';
      progress.result_code = '0';
      break;
    case 'installing':
      progress.state = report.percent === 100 ? 'done' : 'burning';
      progress.result_code = '0';
      break;
    case 'failed':
      progress.state = 'fail';
      progress.result_code = String(RESULT_CODES[report.error ?? 'other']);
      break;
  }
  progress.result_msg = report.message ?? '';
  const body: JsonObject = { progress };
  if (report.version !== undefined) body.version = report.version;
  return publish(device, { type: 'report_progress', report: body });
}

function publish(device: DeviceRef, body: JsonObject): OutboundMessage {
  return { topic: tencentTopic.report(device), payload: JSON.stringify(body), qos: 1 };
}
