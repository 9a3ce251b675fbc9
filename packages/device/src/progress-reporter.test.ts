import {
  codecFor,
  type DeviceMessage,
  type Dialect,
  type ProgressReport,
  type UpgradeErrorCode,
} from '@aloft/protocol';
import { describe, expect, it } from 'vitest';
import { ProgressReporter } from './progress-reporter.js';

const device = { productKey: 'ABCDEFGHIJ', deviceName: 'dev-1' };

/** A reporter whose messages are encoded as the device sends them and decoded as the server reads them. */
function reporterAsServerSees(dialect: Dialect) {
  const codec = codecFor(dialect);
  const seen: DeviceMessage[] = [];
  const reporter = new ProgressReporter({ module: 'default', version: '2.0.0' }, async (report) => {
    const message = codec.encodeProgress(device, report);
    const decoded = codec.decode(message.topic, Buffer.from(message.payload));
    if (!decoded.ok) throw new Error(decoded.reason);
    seen.push(...decoded.messages);
  });
  const last = () => seen.at(-1) as ProgressReport;
  return { reporter, last };
}

/**
 * What each helper method means on the server, per dialect. The wire has no code for some reasons, so they
 * arrive as the dialect's nearest: Tencent's generic download failure is its "download timeout" (-1), and its
 * only code for anything else is "update failed" (-5).
 */
const ARRIVES_AS: Record<Dialect, Record<'download' | 'verify' | 'install' | 'other', UpgradeErrorCode>> = {
  aliyun: { download: 'download_failed', verify: 'verify_failed', install: 'install_failed', other: 'other' },
  tencent: {
    download: 'timeout',
    verify: 'verify_failed',
    install: 'install_failed',
    other: 'install_failed',
  },
  iothub: { download: 'download_failed', verify: 'verify_failed', install: 'install_failed', other: 'other' },
};

describe.each(['aliyun', 'tencent', 'iothub'] as const)('ProgressReporter over %s', (dialect) => {
  it('reports download percent as a downloading phase', async () => {
    const { reporter, last } = reporterAsServerSees(dialect);
    await reporter.download(42);
    expect(last()).toMatchObject({ kind: 'progress', phase: 'downloading', percent: 42 });
  });

  it('maps each failure helper to its error code', async () => {
    const { reporter, last } = reporterAsServerSees(dialect);
    const expected = ARRIVES_AS[dialect];
    await reporter.downloadError('connection reset');
    expect(last()).toMatchObject({ phase: 'failed', error: expected.download });
    await reporter.verifyError('md5 mismatch');
    expect(last()).toMatchObject({ phase: 'failed', error: expected.verify });
    await reporter.installError('flash write failed');
    expect(last()).toMatchObject({ phase: 'failed', error: expected.install });
    await reporter.error('out of memory');
    expect(last()).toMatchObject({ phase: 'failed', error: expected.other });
  });

  it('sends installing as something no server reads as a failure', async () => {
    const { reporter, last } = reporterAsServerSees(dialect);
    await reporter.installing();
    expect(last().phase).not.toBe('failed');
  });
});

describe('ProgressReporter', () => {
  it('names the module and version of its task and keeps the device message', async () => {
    const sent: ProgressReport[] = [];
    const reporter = new ProgressReporter({ module: 'MCU', version: '3.1' }, async (r) => {
      sent.push(r);
    });
    await reporter.fail('url_expired', 'HTTP 403');
    expect(sent).toEqual([
      {
        kind: 'progress',
        module: 'MCU',
        version: '3.1',
        phase: 'failed',
        error: 'url_expired',
        message: 'HTTP 403',
      },
    ]);
  });

  it('passes a failed send on to the caller', async () => {
    const reporter = new ProgressReporter({ module: 'MCU', version: '3.1' }, async () => {
      throw new Error('device is not connected');
    });
    await expect(reporter.download(10)).rejects.toThrow('not connected');
  });
});
