import type { ProgressReport, UpgradeErrorCode, UpgradeTask } from '@aloft/protocol';

/** Publishes one progress report (already in the internal vocabulary) in the device's dialect. */
export type ProgressSender = (report: ProgressReport) => Promise<void>;

/**
 * Reports the progress of one upgrade task to the server, in the spirit of the IotHub course SDK's
 * `OTAProgress` helper (`download(percent)`, `downloadError()`, `checkMD5Error()`, `installError()`,
 * `error()`). Each call publishes one message through the dialect's codec (`encodeProgress`), so the same
 * calls work for every dialect: Aliyun `step`, Tencent `state`/`result_code`, IotHub `progress`.
 *
 * Progress alone never makes an upgrade succeed: the server waits for the device to report the target
 * version ({@link OtaDevice.reportVersion}). Every method resolves once the broker acknowledged the message
 * (QoS 1) and rejects when it cannot be sent (the device was closed).
 */
export class ProgressReporter {
  /** The module and version this reporter speaks for. */
  readonly task: Readonly<Pick<UpgradeTask, 'module' | 'version'>>;
  readonly #send: ProgressSender;

  constructor(task: Pick<UpgradeTask, 'module' | 'version'>, send: ProgressSender) {
    this.task = { module: task.module, version: task.version };
    this.#send = send;
  }

  /** Download progress, 0..100 (clamped and truncated by the dialect). Report 100 once the file is complete. */
  download(percent: number, message?: string): Promise<void> {
    return this.#report({ phase: 'downloading', percent }, message);
  }

  /**
   * The package is downloaded and verified and is being installed (Tencent `burning`; Aliyun and IotHub,
   * which have no such state, see 100%).
   */
  installing(message?: string): Promise<void> {
    return this.#report({ phase: 'installing' }, message);
  }

  /** The download failed (network, HTTP error): `download_failed`. */
  downloadError(message?: string): Promise<void> {
    return this.fail('download_failed', message);
  }

  /** The package did not verify (size, md5/sha256 or signature mismatch): `verify_failed`. */
  verifyError(message?: string): Promise<void> {
    return this.fail('verify_failed', message);
  }

  /** Writing/flashing the package failed: `install_failed`. */
  installError(message?: string): Promise<void> {
    return this.fail('install_failed', message);
  }

  /** Any other failure: `other`. */
  error(message?: string): Promise<void> {
    return this.fail('other', message);
  }

  /**
   * A failure with an exact code, e.g. a {@link DownloadError}'s `code` (`url_expired`, `not_found`,
   * `timeout`…). Dialects without that code send their nearest one.
   */
  fail(code: UpgradeErrorCode, message?: string): Promise<void> {
    return this.#report({ phase: 'failed', error: code }, message);
  }

  #report(
    fields: Pick<ProgressReport, 'phase' | 'percent' | 'error'>,
    message: string | undefined,
  ): Promise<void> {
    const report: ProgressReport = {
      kind: 'progress',
      module: this.task.module,
      version: this.task.version,
      ...fields,
    };
    if (message !== undefined) report.message = message;
    return this.#send(report);
  }
}
