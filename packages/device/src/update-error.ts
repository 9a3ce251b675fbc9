import type { UpgradeErrorCode } from '@aloft/protocol';

/** The step of the built-in update flow an {@link UpdateError} comes from. */
export type UpdateStep = 'download' | 'install' | 'report';

/**
 * Why {@link OtaDevice.update} did not succeed.
 *
 * A real failure (`aborted` false) has already been reported to the server with `code` as the progress
 * report's error (a download failure as `downloadError`, a digest or signature mismatch as `verifyError`, an
 * `install` that threw as `installError`), and the device emitted `update-failed`.
 *
 * An aborted update (`aborted` true: the device was closed, or a task for another version of the module
 * superseded it) is not a failure of the package and is neither reported nor emitted.
 */
export class UpdateError extends Error {
  override readonly name = 'UpdateError';
  /** The normalized reason, as reported to the server. */
  readonly code: UpgradeErrorCode;
  readonly step: UpdateStep;
  /** True when the update was stopped on purpose rather than failing. */
  readonly aborted: boolean;

  constructor(
    code: UpgradeErrorCode,
    step: UpdateStep,
    message: string,
    options: { cause?: unknown; aborted?: boolean } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.step = step;
    this.aborted = options.aborted ?? false;
  }
}
