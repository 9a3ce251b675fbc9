import { describe, expect, it } from 'vitest';
import { bytes, messagesOf, payloadJson, serverMessageOf } from '../testing/wire.js';
import type { UpgradeTask } from '../vocabulary.js';
import {
  DOC_PROGRESS_BURNING,
  DOC_PROGRESS_DONE,
  DOC_PROGRESS_DOWNLOADING,
  DOC_PROGRESS_FAIL,
  DOC_REPORT_VERSION,
  DOC_UPDATE_FIRMWARE,
} from './fixtures/tencent-doc.js';
import {
  PLATFORM_REPORT_VERSION_RSP,
  SDK_BURNING,
  SDK_DONE,
  SDK_DOWNLOADING,
  SDK_FAIL_MD5,
  SDK_REPORT_VERSION,
} from './fixtures/tencent-sdk.js';
import { tencentCodec as codec } from './tencent.js';

const device = { productKey: 'E69UADXUYY', deviceName: 'light1' };
const report = '$ota/report/E69UADXUYY/light1';
const update = '$ota/update/E69UADXUYY/light1';
const decode = (text: string) => messagesOf(codec.decode(report, bytes(text)));

describe('tencent device → server', () => {
  it('reads report_version from the doc and the C SDK', () => {
    const expected = [{ kind: 'version', module: 'default', version: '0.1' }];
    expect(decode(DOC_REPORT_VERSION)).toEqual(expected);
    expect(decode(SDK_REPORT_VERSION)).toEqual(expected);
  });

  it('reads downloading with its string percent', () => {
    const expected = [{ kind: 'progress', phase: 'downloading', percent: 10, version: '0.2' }];
    expect(decode(DOC_PROGRESS_DOWNLOADING)).toEqual(expected);
    expect(decode(SDK_DOWNLOADING)).toEqual(expected);
  });

  it('reads burning as installing', () => {
    const expected = [{ kind: 'progress', phase: 'installing', version: '0.2' }];
    expect(decode(DOC_PROGRESS_BURNING)).toEqual(expected);
    expect(decode(SDK_BURNING)).toEqual(expected);
  });

  it('reads done as installing at 100, not as success', () => {
    const expected = [{ kind: 'progress', phase: 'installing', percent: 100, version: '0.2' }];
    expect(decode(DOC_PROGRESS_DONE)).toEqual(expected);
    expect(decode(SDK_DONE)).toEqual(expected);
  });

  it('trusts the result code of a failure, not the hard-coded "time_out" message', () => {
    expect(decode(DOC_PROGRESS_FAIL)).toEqual([
      { kind: 'progress', phase: 'failed', error: 'timeout', version: '0.2', message: 'time_out' },
    ]);
    expect(decode(SDK_FAIL_MD5)).toEqual([
      { kind: 'progress', phase: 'failed', error: 'verify_failed', version: '0.2', message: 'time_out' },
    ]);
  });

  it.each([
    ['-1', 'timeout'],
    ['-2', 'not_found'],
    ['-3', 'url_expired'],
    ['-4', 'verify_failed'],
    ['-5', 'install_failed'],
    ['-6', 'other'],
    ['"x"', 'other'],
  ])('maps result_code %s to %s', (code, error) => {
    const wire = code.startsWith('"') ? code : `"${code}"`;
    const [out] = decode(
      `{"type":"report_progress","report":{"progress":{"state":"fail","result_code":${wire}}}}`,
    );
    expect(out).toEqual({ kind: 'progress', phase: 'failed', error });
  });

  it('refuses unknown types and states, and percents that are not numbers', () => {
    const bad = [
      '{"type":"report_firmware","report":{}}',
      '{"type":"report_progress","report":{"progress":{"state":"flying"}}}',
      '{"type":"report_progress","report":{"progress":{"state":"downloading","percent":"abc"}}}',
      '{"type":"report_version"}',
    ];
    for (const text of bad)
      expect(codec.decode(report, bytes(text))).toMatchObject({ ok: false, code: 'invalid_payload' });
  });

  it('only decodes the report topic', () => {
    expect(codec.decode(update, bytes(SDK_REPORT_VERSION))).toMatchObject({
      ok: false,
      code: 'unknown_topic',
    });
    expect(codec.deviceOf(update)).toEqual(device);
    expect(codec.deviceOf('$ota/report/E69UADXUYY')).toBeUndefined();
  });
});

describe('tencent server → device', () => {
  const task: UpgradeTask = {
    module: 'default',
    version: '0.2',
    url: 'https://ota-1255858890.cos.ap-guangzhou.myqcloud.com',
    size: 708482,
    md5: '36eb5951179db14a631463a37a9322a2',
    digestAlgorithm: 'md5',
  };

  it('encodes update_firmware with the doc fields, QoS 1', () => {
    const push = codec.encodeUpgrade(device, task);
    expect(push).toMatchObject({ topic: update, qos: 1 });
    expect(payloadJson(push)).toEqual(JSON.parse(DOC_UPDATE_FIRMWARE));
  });

  it('acknowledges a version report with an integer result_code', () => {
    const ack = codec.encodeVersionAck(device, { kind: 'version', module: 'default', version: '0.1' });
    expect(ack && payloadJson(ack)).toEqual(JSON.parse(PLATFORM_REPORT_VERSION_RSP));
  });

  it('refuses to push a task without an md5, which Tencent devices need', () => {
    const { md5: _md5, ...noMd5 } = task;
    expect(() =>
      codec.encodeUpgrade(device, { ...noMd5, sha256: 'a'.repeat(64), digestAlgorithm: 'sha256' }),
    ).toThrow(RangeError);
  });

  it('has no way for devices to ask for a task', () => {
    expect(
      codec.encodeTaskRequest(device, { kind: 'task_request', form: 'firmware_get', requestId: 1 }),
    ).toBeUndefined();
  });
});

describe('tencent as the device SDK reads it', () => {
  it('reads the doc update_firmware and the platform report_version_rsp', () => {
    expect(serverMessageOf(codec.decodeServer(update, bytes(DOC_UPDATE_FIRMWARE)))).toEqual({
      kind: 'upgrade',
      task: {
        module: 'default',
        version: '0.2',
        url: 'https://ota-1255858890.cos.ap-guangzhou.myqcloud.com',
        size: 708482,
        md5: '36eb5951179db14a631463a37a9322a2',
        digestAlgorithm: 'md5',
      },
    });
    expect(serverMessageOf(codec.decodeServer(update, bytes(PLATFORM_REPORT_VERSION_RSP)))).toEqual({
      kind: 'version_ack',
      version: '0.1',
    });
  });

  it('encodes progress like the C SDK: strings for percent and result_code', () => {
    const sent = (phase: 'downloading' | 'installing', percent?: number) =>
      payloadJson(codec.encodeProgress(device, { kind: 'progress', phase, percent, version: '0.2' }));
    expect(sent('downloading', 10)).toEqual(JSON.parse(SDK_DOWNLOADING));
    expect(sent('installing')).toEqual(JSON.parse(SDK_BURNING));
    expect(sent('installing', 100)).toEqual(JSON.parse(SDK_DONE));
    const failed = codec.encodeProgress(device, {
      kind: 'progress',
      phase: 'failed',
      error: 'verify_failed',
      version: '0.2',
      message: 'time_out',
    });
    expect(payloadJson(failed)).toEqual(JSON.parse(SDK_FAIL_MD5));
  });
});
