import type { JsonObject } from '../json-reader.js';
import type {
  DeviceRef,
  OutboundMessage,
  ProgressReport,
  UpgradeErrorCode,
  VersionReport,
} from '../vocabulary.js';
import { iothubTopic } from './iothub-topics.js';

/**
 * Error code → `progress`, the inverse of the decoder's table. Timeouts, a missing file and an expired URL
 * all happen while downloading (-1).
 */
const ERROR_PROGRESS: Readonly<Record<UpgradeErrorCode, number>> = {
  download_failed: -1,
  timeout: -1,
  not_found: -1,
  url_expired: -1,
  verify_failed: -2,
  install_failed: -3,
  other: -4,
};

/** Device side status report: `{"<module>_ver":"<version>"}`, as the course's `device.updateStatus(...)`. */
export function encodeIothubVersion(device: DeviceRef, report: VersionReport): OutboundMessage {
  const body = { [`${report.module}_ver`]: report.version };
  return { topic: iothubTopic.status(device), payload: JSON.stringify(body), qos: 1 };
}

/**
 * Device side progress, as the course's `OTAProgress.sendProgress`:
 * `{"version":"1.1","type":"firmware","progress":70,"desc":"..."}`. Only download percents exist, so verifying
 * and installing are sent as 100.
 */
export function encodeIothubProgress(device: DeviceRef, report: ProgressReport): OutboundMessage {
  const body: JsonObject = {};
  if (report.version !== undefined) body.version = report.version;
  if (report.module !== undefined) body.type = report.module;
  body.progress = progressOf(report);
  if (report.message !== undefined) body.desc = report.message;
  return { topic: iothubTopic.otaStatus(device), payload: JSON.stringify(body), qos: 1 };
}

function progressOf(report: ProgressReport): number {
  switch (report.phase) {
    case 'failed':
      return ERROR_PROGRESS[report.error ?? 'other'];
    case 'downloading':
      return Math.max(0, Math.min(100, Math.trunc(report.percent ?? 0)));
    default:
      return 100;
  }
}
