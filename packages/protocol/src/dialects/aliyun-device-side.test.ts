import { describe, expect, it } from 'vitest';
import { bytes, payloadJson, serverMessageOf } from '../testing/wire.js';
import { aliyunCodec as codec } from './aliyun.js';
import { DOC_UPGRADE_PUSH } from './fixtures/aliyun-doc.js';

const device = { productKey: 'a1pk', deviceName: 'dev-1' };
const inform = '/ota/device/inform/a1pk/dev-1';
const firmwareGet = '/sys/a1pk/dev-1/thing/ota/firmware/get';

describe('aliyun as the device SDK reads it', () => {
  it('reads the doc upgrade push (SDK v3 shape: md5 and no signMethod)', () => {
    const message = serverMessageOf(
      codec.decodeServer('/ota/device/upgrade/a1pk/dev-1', bytes(DOC_UPGRADE_PUSH)),
    );
    expect(message).toMatchObject({
      kind: 'upgrade',
      task: {
        module: 'default',
        version: '2.0.0',
        size: 432945,
        md5: '93230c3bde425a9d7984a594ac55ea1e',
        digestAlgorithm: 'md5',
        id: 1507707025,
      },
    });
    expect(message.kind === 'upgrade' && message.task.url).toMatch(
      /^https:\/\/iotx-ota-pre\.oss-cn-shanghai/,
    );
  });

  it('reads an empty get_reply as nothing pending', () => {
    const reply = bytes('{"id":"9","code":200,"data":{}}');
    expect(
      serverMessageOf(codec.decodeServer('/sys/a1pk/dev-1/thing/ota/firmware/get_reply', reply)),
    ).toEqual({
      kind: 'task_reply',
      requestId: '9',
    });
  });

  it('refuses a push with an unknown signMethod or a sign of the wrong length', () => {
    const push = (data: string) => bytes(`{"code":"1000","message":"success","id":1,"data":${data}}`);
    const base = '"size":1,"version":"1","url":"u"';
    const upgrade = '/ota/device/upgrade/a1pk/dev-1';
    expect(codec.decodeServer(upgrade, push(`{${base},"signMethod":"crc","sign":"00"}`))).toMatchObject({
      ok: false,
    });
    expect(
      codec.decodeServer(upgrade, push(`{${base},"signMethod":"SHA256","sign":"${'a'.repeat(32)}"}`)),
    ).toMatchObject({
      ok: false,
    });
  });

  it('encodes the version, progress and task requests LinkSDK-style', () => {
    const version = codec.encodeVersion(device, { kind: 'version', module: 'MCU', version: '1.2' });
    expect(version.topic).toBe(inform);
    expect(payloadJson(version)).toMatchObject({ params: { version: '1.2', module: 'MCU' } });
    const step = codec.encodeProgress(device, { kind: 'progress', phase: 'failed', error: 'verify_failed' });
    expect(payloadJson(step)).toMatchObject({ params: { step: '-3', desc: '' } });
    const asked = codec.encodeTaskRequest(device, {
      kind: 'task_request',
      form: 'firmware_get',
      requestId: '5',
    });
    expect(asked?.topic).toBe(firmwareGet);
    expect(payloadJson(asked as NonNullable<typeof asked>)).toEqual({
      id: '5',
      version: '1.0',
      params: {},
      method: 'thing.ota.firmware.get',
    });
  });
});
