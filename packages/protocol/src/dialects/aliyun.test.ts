import { describe, expect, it } from 'vitest';
import { bytes, messagesOf, payloadJson } from '../testing/wire.js';
import type { UpgradeTask } from '../vocabulary.js';
import { aliyunCodec as codec } from './aliyun.js';
import { DOC_INFORM, DOC_PROGRESS, DOC_PROGRESS_TYPO } from './fixtures/aliyun-doc.js';
import {
  LINKSDK_FIRMWARE_GET,
  LINKSDK_FIRMWARE_GET_MODULE,
  LINKSDK_INFORM,
  LINKSDK_INFORM_MODULE,
  LINKSDK_PROGRESS,
  LINKSDK_PROGRESS_CHECKSUM,
  SPEC_FIRMWARE_GET,
  SPEC_INFORM,
  SPEC_LEGACY_REQUEST,
  SPEC_PROGRESS_FAILED,
} from './fixtures/aliyun-sdk.js';

const device = { productKey: 'a1pk', deviceName: 'dev-1' };
const inform = '/ota/device/inform/a1pk/dev-1';
const progress = '/ota/device/progress/a1pk/dev-1';
const firmwareGet = '/sys/a1pk/dev-1/thing/ota/firmware/get';
const request = '/ota/device/request/a1pk/dev-1';

const md5Task: UpgradeTask = {
  module: 'MCU',
  version: '2.0.0',
  url: 'https://dl.example.com/fw.bin?sig=x',
  size: 432945,
  md5: '93230c3bde425a9d7984a594ac55ea1e',
  digestAlgorithm: 'md5',
  extData: { key1: 'value1' },
  id: 1507707025,
};

describe('aliyun device → server', () => {
  it('reads the doc version report, with no module meaning "default"', () => {
    expect(messagesOf(codec.decode(inform, bytes(DOC_INFORM)))).toEqual([
      { kind: 'version', module: 'default', version: 'xxxxxxxx' },
    ]);
  });

  it('reads LinkSDK version reports with and without a module', () => {
    expect(messagesOf(codec.decode(inform, bytes(LINKSDK_INFORM)))).toEqual([
      { kind: 'version', module: 'default', version: '1.0.0' },
    ]);
    expect(messagesOf(codec.decode(inform, bytes(LINKSDK_INFORM_MODULE)))).toEqual([
      { kind: 'version', module: 'MCU', version: '1.0.0' },
    ]);
    expect(messagesOf(codec.decode(inform, bytes(SPEC_INFORM)))).toEqual([
      { kind: 'version', module: 'MCU', version: '1.0.1' },
    ]);
  });

  it('refuses the doc progress example, which is not JSON, and reads it once the comma is restored', () => {
    expect(codec.decode(progress, bytes(DOC_PROGRESS_TYPO))).toMatchObject({
      ok: false,
      code: 'malformed_json',
    });
    expect(messagesOf(codec.decode(progress, bytes(DOC_PROGRESS)))).toEqual([
      { kind: 'progress', phase: 'downloading', percent: 1, message: ' xxxxxxxx ' },
    ]);
  });

  it('treats every percent step as downloading, since Aliyun cannot tell phases apart', () => {
    expect(messagesOf(codec.decode(progress, bytes(LINKSDK_PROGRESS)))).toEqual([
      { kind: 'progress', phase: 'downloading', percent: 50 },
    ]);
    const hundred = messagesOf(codec.decode(progress, bytes('{"id":1,"params":{"step":100}}')));
    expect(hundred).toEqual([{ kind: 'progress', phase: 'downloading', percent: 100 }]);
  });

  it.each([
    ['-1', 'other'],
    ['-2', 'download_failed'],
    ['-3', 'verify_failed'],
    ['-4', 'install_failed'],
    ['-9', 'other'],
  ])('maps step %s to error %s, as a string or a number', (step, error) => {
    for (const wire of [`"${step}"`, step]) {
      const [report] = messagesOf(
        codec.decode(progress, bytes(`{"id":"7","params":{"step":${wire},"desc":""}}`)),
      );
      expect(report).toEqual({ kind: 'progress', phase: 'failed', error });
    }
  });

  it('keeps the module and description of LinkSDK and spec error reports', () => {
    expect(messagesOf(codec.decode(progress, bytes(LINKSDK_PROGRESS_CHECKSUM)))).toEqual([
      { kind: 'progress', phase: 'failed', error: 'verify_failed', module: 'MCU' },
    ]);
    expect(messagesOf(codec.decode(progress, bytes(SPEC_PROGRESS_FAILED)))).toEqual([
      { kind: 'progress', phase: 'failed', error: 'other', module: 'MCU', message: '...' },
    ]);
  });

  it('clamps percents above 100, truncates fractions and refuses NaN', () => {
    const step = (wire: string) => codec.decode(progress, bytes(`{"id":1,"params":{"step":${wire}}}`));
    expect(messagesOf(step('"250"'))).toEqual([{ kind: 'progress', phase: 'downloading', percent: 100 }]);
    expect(messagesOf(step('"42.9"'))).toEqual([{ kind: 'progress', phase: 'downloading', percent: 42 }]);
    expect(step('"NaN"')).toMatchObject({ ok: false, code: 'invalid_payload' });
    expect(step('"ten"')).toMatchObject({ ok: false, code: 'invalid_payload' });
    expect(step('null')).toMatchObject({ ok: false, code: 'invalid_payload' });
  });

  it('reads firmware/get as LinkSDK and the doc send it, echoing the id as given', () => {
    expect(messagesOf(codec.decode(firmwareGet, bytes(LINKSDK_FIRMWARE_GET)))).toEqual([
      { kind: 'task_request', form: 'firmware_get', requestId: 5 },
    ]);
    expect(messagesOf(codec.decode(firmwareGet, bytes(LINKSDK_FIRMWARE_GET_MODULE)))).toEqual([
      { kind: 'task_request', form: 'firmware_get', requestId: 6, module: 'MCU' },
    ]);
    expect(messagesOf(codec.decode(firmwareGet, bytes(SPEC_FIRMWARE_GET)))).toEqual([
      { kind: 'task_request', form: 'firmware_get', requestId: '123', module: 'MCU' },
    ]);
  });

  it('reads the legacy pull and ignores the server reply echoed back on the same topic', () => {
    expect(messagesOf(codec.decode(request, bytes(SPEC_LEGACY_REQUEST)))).toEqual([
      { kind: 'task_request', form: 'legacy_request', requestId: 0, currentVersion: '1.0.0' },
    ]);
    const reply = codec.encodeTaskReply(
      device,
      { kind: 'task_request', form: 'legacy_request', requestId: 0 },
      md5Task,
    );
    expect(reply.topic).toBe(request);
    expect(messagesOf(codec.decode(reply.topic, bytes(reply.payload as string)))).toEqual([]);
  });

  it('refuses invalid versions: empty, longer than 64, or with control characters', () => {
    for (const version of ['""', JSON.stringify('v'.repeat(65)), '"1.0\\n"', '{}']) {
      const result = codec.decode(inform, bytes(`{"id":1,"params":{"version":${version}}}`));
      expect(result).toMatchObject({ ok: false, code: 'invalid_payload' });
    }
    expect(
      messagesOf(codec.decode(inform, bytes(`{"id":1,"params":{"version":"${'v'.repeat(64)}"}}`))),
    ).toHaveLength(1);
  });

  it('says which device a topic belongs to, and refuses topics of no device', () => {
    expect(codec.deviceOf(inform)).toEqual(device);
    expect(codec.deviceOf('/sys/a1pk/dev-1/thing/file/download')).toEqual(device);
    expect(codec.deviceOf('/ota/device/inform/a1pk')).toBeUndefined();
    expect(codec.deviceOf('/ota/device/inform/+/dev-1')).toBeUndefined();
    expect(codec.decode('/ota/device/upgrade/a1pk/dev-1', bytes('{}'))).toMatchObject({
      code: 'unknown_topic',
    });
  });
});

describe('aliyun server → device', () => {
  it('encodes the upgrade push with code "1000" as a string, message "success" and a numeric id', () => {
    const push = codec.encodeUpgrade(device, md5Task);
    expect(push).toMatchObject({ topic: '/ota/device/upgrade/a1pk/dev-1', qos: 1 });
    expect(payloadJson(push)).toEqual({
      code: '1000',
      message: 'success',
      id: 1507707025,
      data: {
        size: 432945,
        version: '2.0.0',
        url: 'https://dl.example.com/fw.bin?sig=x',
        md5: '93230c3bde425a9d7984a594ac55ea1e',
        sign: '93230c3bde425a9d7984a594ac55ea1e',
        signMethod: 'Md5',
        module: 'MCU',
        extData: { key1: 'value1' },
      },
    });
  });

  it('spells signMethod exactly "SHA256" with a 64-digit sign, keeping md5 for SDK v3', () => {
    const sha256 = 'ab'.repeat(32);
    const task: UpgradeTask = {
      ...md5Task,
      sha256,
      digestAlgorithm: 'sha256',
      isDiff: true,
      signature: 'c2ln',
    };
    const data = (payloadJson(codec.encodeUpgrade(device, task)) as { data: Record<string, unknown> }).data;
    expect(data).toMatchObject({
      signMethod: 'SHA256',
      sign: sha256,
      md5: md5Task.md5,
      isDiff: 1,
      digestsign: 'c2ln',
    });
    expect(JSON.stringify(data)).not.toMatch(/"MD5"|"Sha256"|"sha256"/);
  });

  it('refuses to encode a task without the digest its algorithm names', () => {
    const { md5: _md5, ...noMd5 } = md5Task;
    expect(() => codec.encodeUpgrade(device, noMd5)).toThrow(RangeError);
    expect(() => codec.encodeUpgrade(device, { ...md5Task, digestAlgorithm: 'sha256' })).toThrow(RangeError);
    const extData = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, 'v']));
    expect(() => codec.encodeUpgrade(device, { ...md5Task, extData })).toThrow(RangeError);
  });

  it('adds the MQTT-download fields while keeping the URL for SDK v3', () => {
    const data = (
      payloadJson(codec.encodeUpgrade(device, { ...md5Task, mqttStream: { streamId: 1234, fileId: 1 } })) as {
        data: Record<string, unknown>;
      }
    ).data;
    expect(data).toMatchObject({ dProtocol: 'mqtt', streamId: 1234, streamFileId: 1, url: md5Task.url });
  });

  it('answers firmware/get with the integer code 200, and "data":{} when nothing is pending', () => {
    const asked = { kind: 'task_request', form: 'firmware_get', requestId: '123' } as const;
    const none = codec.encodeTaskReply(device, asked, undefined);
    expect(none.topic).toBe('/sys/a1pk/dev-1/thing/ota/firmware/get_reply');
    expect(payloadJson(none)).toEqual({ id: '123', code: 200, data: {} });
    const some = payloadJson(codec.encodeTaskReply(device, asked, md5Task)) as Record<string, unknown>;
    expect(some).toMatchObject({ id: '123', code: 200, data: { url: md5Task.url, signMethod: 'Md5' } });
  });

  it('answers the legacy pull on its own topic, in the push shape with the url', () => {
    const reply = codec.encodeTaskReply(
      device,
      { kind: 'task_request', form: 'legacy_request', requestId: 0, currentVersion: '1.0' },
      md5Task,
    );
    expect(reply.topic).toBe(request);
    expect(payloadJson(reply)).toMatchObject({
      code: '1000',
      message: 'success',
      id: 0,
      data: { url: md5Task.url },
    });
  });

  it('turns a textual task id into a stable numeric push id', () => {
    const idOf = (id: string) =>
      (payloadJson(codec.encodeUpgrade(device, { ...md5Task, id })) as { id: unknown }).id;
    expect(idOf('42')).toBe(42);
    expect(idOf('job-7/dev-1')).toBe(idOf('job-7/dev-1'));
    expect(typeof idOf('job-7/dev-1')).toBe('number');
  });

  it('acknowledges no version report: Aliyun has no such message', () => {
    expect(
      codec.encodeVersionAck(device, { kind: 'version', module: 'default', version: '1' }),
    ).toBeUndefined();
  });
});
