import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { topicMatchesFilter as topicMatches } from '../acl.js';
import type { DialectCodec } from '../codec.js';
import {
  device as aliyunOrIothubDevice,
  progressReport,
  taskRequest,
  tencentDevice,
  upgradeTask,
  versionReport,
} from '../testing/arbitraries.js';
import { messagesOf, payloadBytes, serverMessageOf } from '../testing/wire.js';
import type {
  DeviceRef,
  ProgressReport,
  UpgradeErrorCode,
  UpgradeTask,
  VersionReport,
} from '../vocabulary.js';
import { DEFAULT_MODULE } from '../vocabulary.js';
import { aliyunCodec } from './aliyun.js';
import { iothubCodec } from './iothub.js';
import { tencentCodec } from './tencent.js';

/**
 * What survives a trip through each dialect. The dialects are not equally expressive (Aliyun has only download
 * percents, Tencent no modules, ...); these functions state exactly what each keeps, so the properties below
 * check that nothing else is lost or invented.
 */
interface Survival {
  codec: DialectCodec;
  device: fc.Arbitrary<DeviceRef>;
  version(report: VersionReport): VersionReport;
  progress(report: ProgressReport): ProgressReport;
  task(task: UpgradeTask): UpgradeTask;
}

function clean<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

const percentOnly = (report: ProgressReport) =>
  report.phase === 'downloading' ? (report.percent ?? 0) : 100;

const aliyunErrors: Record<UpgradeErrorCode, UpgradeErrorCode> = {
  other: 'other',
  download_failed: 'download_failed',
  timeout: 'download_failed',
  not_found: 'download_failed',
  url_expired: 'download_failed',
  verify_failed: 'verify_failed',
  install_failed: 'install_failed',
};
const tencentErrors: Record<UpgradeErrorCode, UpgradeErrorCode> = {
  timeout: 'timeout',
  download_failed: 'timeout',
  not_found: 'not_found',
  url_expired: 'url_expired',
  verify_failed: 'verify_failed',
  install_failed: 'install_failed',
  other: 'install_failed',
};
const iothubErrors = aliyunErrors;

const aliyun: Survival = {
  codec: aliyunCodec,
  device: aliyunOrIothubDevice,
  version: (r) => r,
  progress: (r) =>
    clean({
      kind: 'progress',
      module: r.module,
      message: r.message,
      ...(r.phase === 'failed'
        ? { phase: 'failed', error: aliyunErrors[r.error ?? 'other'] }
        : { phase: 'downloading', percent: percentOnly(r) }),
    }) as ProgressReport,
  task: (t) =>
    clean({
      module: t.module,
      version: t.version,
      url: t.url,
      size: t.size,
      digestAlgorithm: t.digestAlgorithm,
      md5: t.md5,
      sha256: t.digestAlgorithm === 'sha256' ? t.sha256 : undefined,
      isDiff: t.isDiff ? true : undefined,
      signature: t.signature || undefined,
      extData: t.extData && Object.keys(t.extData).length > 0 ? t.extData : undefined,
      mqttStream: t.mqttStream,
      // A task without an id still gets a numeric push id.
      id: t.id ?? expect.any(Number),
    }),
};

const tencent: Survival = {
  codec: tencentCodec,
  device: tencentDevice,
  version: (r) => ({ ...r, module: DEFAULT_MODULE }),
  progress: (r) => {
    const kept = { kind: 'progress' as const, version: r.version, message: r.message };
    if (r.phase === 'failed')
      return clean({ ...kept, phase: 'failed', error: tencentErrors[r.error ?? 'other'] });
    if (r.phase === 'installing') {
      return clean({ ...kept, phase: 'installing', percent: r.percent === 100 ? 100 : undefined });
    }
    return clean({ ...kept, phase: 'downloading', percent: percentOnly(r) });
  },
  task: (t) => ({
    module: DEFAULT_MODULE,
    version: t.version,
    url: t.url,
    size: t.size,
    md5: t.md5,
    digestAlgorithm: 'md5',
  }),
};

const iothub: Survival = {
  codec: iothubCodec,
  device: aliyunOrIothubDevice,
  version: (r) => r,
  progress: (r) =>
    clean({
      kind: 'progress',
      module: r.module,
      version: r.version,
      message: r.message,
      ...(r.phase === 'failed'
        ? { phase: 'failed', error: iothubErrors[r.error ?? 'other'] }
        : { phase: 'downloading', percent: percentOnly(r) }),
    }) as ProgressReport,
  task: (t) =>
    clean({
      module: t.module,
      version: t.version,
      url: t.url,
      size: t.size,
      md5: t.md5,
      digestAlgorithm: 'md5',
      sha256: t.sha256,
      signature: t.signature || undefined,
      // A task without an id is sent with a fresh ObjectId-like request id.
      id: t.id === undefined ? expect.stringMatching(/^[0-9a-f]{24}$/) : String(t.id),
      expiresAt: t.expiresAt,
    }),
};

describe.each([
  ['aliyun', aliyun],
  ['tencent', tencent],
  ['iothub', iothub],
])('%s round trips', (_name, dialect) => {
  const { codec } = dialect;

  it('decodes the version report the device SDK encodes', () => {
    fc.assert(
      fc.property(dialect.device, versionReport, (device, report) => {
        const sent = codec.encodeVersion(device, report);
        const decoded = codec.decode(sent.topic, payloadBytes(sent));
        expect(decoded).toMatchObject({ ok: true, device });
        expect(messagesOf(decoded)).toEqual([dialect.version(report)]);
      }),
    );
  });

  it('decodes the progress report the device SDK encodes, keeping what the dialect can say', () => {
    fc.assert(
      fc.property(dialect.device, progressReport, (device, report) => {
        const sent = codec.encodeProgress(device, report);
        expect(messagesOf(codec.decode(sent.topic, payloadBytes(sent)))).toEqual([dialect.progress(report)]);
      }),
    );
  });

  it('decodes, device side, the upgrade the server encodes', () => {
    fc.assert(
      fc.property(dialect.device, upgradeTask, (device, task) => {
        const sent = codec.encodeUpgrade(device, task);
        expect(codec.deviceSubscriptions(device)).toContainEqual(expect.any(String));
        expect(serverMessageOf(codec.decodeServer(sent.topic, payloadBytes(sent)))).toEqual({
          kind: 'upgrade',
          task: dialect.task(task),
        });
      }),
    );
  });

  it('puts every message on a topic inside the device ACL', () => {
    fc.assert(
      fc.property(
        dialect.device,
        versionReport,
        progressReport,
        upgradeTask,
        (device, version, progress, task) => {
          const acl = codec.deviceTopics(device);
          for (const sent of [codec.encodeVersion(device, version), codec.encodeProgress(device, progress)]) {
            expect(acl.publish.some((filter) => topicMatches(filter, sent.topic))).toBe(true);
            expect(codec.inboundFilters.some((filter) => topicMatches(filter, sent.topic))).toBe(true);
            expect(codec.deviceOf(sent.topic)).toEqual(device);
          }
          const pushed = codec.encodeUpgrade(device, task);
          expect(acl.subscribe.some((filter) => topicMatches(filter, pushed.topic))).toBe(true);
          expect(codec.deviceSubscriptions(device).some((filter) => topicMatches(filter, pushed.topic))).toBe(
            true,
          );
        },
      ),
    );
  });
});

describe('aliyun task requests round trip', () => {
  it('decodes, server side, the task request the device encodes, in both forms', () => {
    fc.assert(
      fc.property(aliyunOrIothubDevice, taskRequest, (device, request) => {
        const sent = aliyunCodec.encodeTaskRequest(device, request);
        if (!sent) throw new Error('aliyun devices can always ask');
        expect(messagesOf(aliyunCodec.decode(sent.topic, payloadBytes(sent)))).toEqual([request]);
      }),
    );
  });

  it('decodes, device side, the reply to it, with or without a task', () => {
    fc.assert(
      fc.property(
        aliyunOrIothubDevice,
        taskRequest,
        fc.option(upgradeTask, { nil: undefined }),
        (device, request, task) => {
          const reply = aliyunCodec.encodeTaskReply(device, request, task);
          const { id: _id, ...expected } = task ? aliyun.task(task) : { id: undefined };
          expect(serverMessageOf(aliyunCodec.decodeServer(reply.topic, payloadBytes(reply)))).toEqual(
            clean({ kind: 'task_reply', requestId: request.requestId, task: task && expected }),
          );
        },
      ),
    );
  });
});

describe('tencent version acknowledgements round trip', () => {
  it('decodes, device side, the report_version_rsp the server encodes', () => {
    fc.assert(
      fc.property(tencentDevice, versionReport, (device, report) => {
        const ack = tencentCodec.encodeVersionAck(device, report);
        if (!ack) throw new Error('tencent acknowledges versions');
        expect(serverMessageOf(tencentCodec.decodeServer(ack.topic, payloadBytes(ack)))).toEqual({
          kind: 'version_ack',
          version: report.version,
        });
      }),
    );
  });
});
