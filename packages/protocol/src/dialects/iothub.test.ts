import { describe, expect, it } from 'vitest';
import { bytes, messagesOf, payloadJson, serverMessageOf } from '../testing/wire.js';
import type { UpgradeTask } from '../vocabulary.js';
import {
  COURSE_DOWNLOAD_17,
  COURSE_DOWNLOAD_ERROR,
  COURSE_FIRMWARE_STATUS,
  COURSE_INSTALL_ERROR,
  COURSE_MD5_ERROR,
  COURSE_OTA_DATA,
  COURSE_OTHER_ERROR,
  COURSE_STATUS,
  SPEC_OTA_UPGRADE,
} from './fixtures/iothub-course.js';
import { iothubCodec as codec } from './iothub.js';

const device = { productKey: 'IotApp', deviceName: 'dev01' };
const otaStatus = 'update_ota_status/IotApp/dev01/5be4f4df2c33167c317beb8c';
const status = 'update_status/IotApp/dev01/5be4f4df2c33167c317beb8c';
const decode = (topic: string, text: string) => messagesOf(codec.decode(topic, bytes(text)));

describe('iothub device → server', () => {
  it('reads the course progress helper output, type being the module', () => {
    expect(decode(otaStatus, COURSE_DOWNLOAD_17)).toEqual([
      {
        kind: 'progress',
        phase: 'downloading',
        percent: 17,
        module: 'firmware',
        version: '1.1',
        message: 'download',
      },
    ]);
  });

  it.each([
    [COURSE_DOWNLOAD_ERROR, 'download_failed'],
    [COURSE_MD5_ERROR, 'verify_failed'],
    [COURSE_INSTALL_ERROR, 'install_failed'],
    [COURSE_OTHER_ERROR, 'other'],
  ])('maps the course error report %s to %s', (text, error) => {
    expect(decode(otaStatus, text)).toMatchObject([
      { kind: 'progress', phase: 'failed', error, module: 'firmware' },
    ]);
  });

  it('reads one version per <type>_ver key of a status report and ignores other keys', () => {
    expect(decode(status, COURSE_STATUS)).toEqual([
      { kind: 'version', module: 'app', version: '1.1' },
      { kind: 'version', module: 'os', version: '9.0' },
    ]);
    expect(decode(status, COURSE_FIRMWARE_STATUS)).toEqual([
      { kind: 'version', module: 'firmware', version: '1.0' },
    ]);
    expect(decode(status, '{"battery":80,"_ver":"1","x_ver":"bad\\u0001"}')).toEqual([]);
  });

  it('only decodes device topics', () => {
    expect(codec.decode('cmd/IotApp/dev01/ota_upgrade/json/1', bytes('{}'))).toMatchObject({
      code: 'unknown_topic',
    });
    expect(codec.decode('update_status/IotApp/dev01', bytes('{}'))).toMatchObject({ code: 'unknown_topic' });
    expect(codec.deviceOf(status)).toEqual(device);
  });
});

describe('iothub server → device', () => {
  const task: UpgradeTask = {
    module: 'firmware',
    version: '1.1',
    url: 'https://example.com/fw/1.1.bin',
    size: 1000,
    md5: '93230c3bde425a9d7984a594ac55ea1e',
    digestAlgorithm: 'md5',
    id: 'req1',
    expiresAt: 1700000000,
  };

  it('sends the ota_upgrade command on cmd/<product>/<device>/ota_upgrade/json/<requestId>/<expiresAt>', () => {
    const push = codec.encodeUpgrade(device, task);
    expect(push).toMatchObject({ topic: 'cmd/IotApp/dev01/ota_upgrade/json/req1/1700000000', qos: 1 });
    expect(payloadJson(push)).toEqual(JSON.parse(SPEC_OTA_UPGRADE));
  });

  it('leaves expiresAt out of the topic when the task has none', () => {
    const { expiresAt: _e, ...open } = task;
    expect(codec.encodeUpgrade(device, open).topic).toBe('cmd/IotApp/dev01/ota_upgrade/json/req1');
  });

  it('lets the device subscribe to its commands and publish only its own status topics', () => {
    expect(codec.deviceTopics(device)).toEqual({
      publish: ['update_ota_status/IotApp/dev01/+', 'update_status/IotApp/dev01/+'],
      subscribe: ['cmd/IotApp/dev01/#'],
    });
  });
});

describe('iothub as the device SDK reads it', () => {
  it('reads the command under both spellings of its name', () => {
    for (const name of ['ota_upgrade', '$ota_upgrade']) {
      const message = serverMessageOf(
        codec.decodeServer(`cmd/IotApp/dev01/${name}/json/abc/1700000000`, bytes(SPEC_OTA_UPGRADE)),
      );
      expect(message).toEqual({
        kind: 'upgrade',
        task: {
          module: 'firmware',
          version: '1.1',
          url: 'https://example.com/fw/1.1.bin',
          size: 1000,
          md5: '93230c3bde425a9d7984a594ac55ea1e',
          digestAlgorithm: 'md5',
          id: 'abc',
          expiresAt: 1700000000,
        },
      });
    }
  });

  it("refuses the course sample's placeholder md5, which no device could verify", () => {
    const result = codec.decodeServer('cmd/IotApp/dev01/ota_upgrade/json/abc', bytes(COURSE_OTA_DATA));
    expect(result).toMatchObject({ ok: false, code: 'invalid_payload' });
  });

  it('encodes progress and versions like the course SDK', () => {
    const sent = codec.encodeProgress(device, {
      kind: 'progress',
      phase: 'downloading',
      percent: 17,
      module: 'firmware',
      version: '1.1',
      message: 'download',
    });
    expect(sent.topic).toMatch(/^update_ota_status\/IotApp\/dev01\/[0-9a-f]{24}$/);
    expect(payloadJson(sent)).toEqual(JSON.parse(COURSE_DOWNLOAD_17));
    const version = codec.encodeVersion(device, { kind: 'version', module: 'firmware', version: '1.0' });
    expect(version.topic).toMatch(/^update_status\/IotApp\/dev01\/[0-9a-f]{24}$/);
    expect(payloadJson(version)).toEqual(JSON.parse(COURSE_FIRMWARE_STATUS));
  });
});
