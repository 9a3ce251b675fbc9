import type { UpgradeTask } from '@aloft/protocol';
import type { DownloadUrls } from '../ports/download-urls.js';
import type { Firmware } from '../ports/firmware-repository.js';

/**
 * The task a device receives, with a freshly signed URL every time it is built (every push and re-push).
 * Externally hosted packages keep their URL unchanged.
 */
export function buildTask(firmware: Firmware, urls: DownloadUrls, now: number): UpgradeTask {
  const task: UpgradeTask = {
    module: firmware.module,
    version: firmware.version,
    url: firmware.externalUrl ?? urls.urlFor(firmware, now),
    size: firmware.size,
    // md5 is what every vendor SDK can check (Aliyun SDK v3, Tencent, IotHub); sha256 when it is all we have.
    digestAlgorithm: firmware.md5 ? 'md5' : 'sha256',
    id: now,
  };
  if (firmware.md5) task.md5 = firmware.md5;
  if (firmware.sha256) task.sha256 = firmware.sha256;
  if (firmware.signature) task.signature = firmware.signature;
  return task;
}
