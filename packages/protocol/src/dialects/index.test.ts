import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../vocabulary.js';
import { aliyunCodec, codecFor, iothubCodec, tencentCodec } from './index.js';

describe('codecFor', () => {
  it('gives each dialect its own codec', () => {
    expect(DIALECTS.map((dialect) => codecFor(dialect).dialect)).toEqual([...DIALECTS]);
    expect([codecFor('aliyun'), codecFor('tencent'), codecFor('iothub')]).toEqual([
      aliyunCodec,
      tencentCodec,
      iothubCodec,
    ]);
  });

  it('subscribes the server to filters that shared subscriptions can carry', () => {
    // Aliyun topics begin with "/": `$share/aloft/` + filter gives the double slash Mosquitto expects.
    expect(aliyunCodec.inboundFilters.map((filter) => `$share/aloft/${filter}`)).toContain(
      '$share/aloft//ota/device/inform/+/+',
    );
    expect(tencentCodec.inboundFilters).toEqual(['$ota/report/+/+']);
    expect(iothubCodec.inboundFilters).toEqual(['update_ota_status/+/+/+', 'update_status/+/+/+']);
  });

  it('refuses to build topics for device names that would address other topics', () => {
    for (const deviceName of ['a/b', '+', '#', '']) {
      expect(() =>
        aliyunCodec.encodeVersion(
          { productKey: 'pk', deviceName },
          { kind: 'version', module: 'm', version: '1' },
        ),
      ).toThrow(RangeError);
    }
  });
});
