import { describe, expect, it } from 'vitest';
import { grantSubscription, mayPublish, topicMatchesFilter } from './acl.js';
import { aliyunCodec, iothubCodec, tencentCodec } from './dialects/index.js';

const device = { productKey: 'a1pk', deviceName: 'dev-1' };

describe('device ACL', () => {
  it('matches MQTT filters as brokers do', () => {
    expect(topicMatchesFilter('a/+/c', 'a/b/c')).toBe(true);
    expect(topicMatchesFilter('a/#', 'a')).toBe(true);
    expect(topicMatchesFilter('a/#', 'a/b/c')).toBe(true);
    expect(topicMatchesFilter('a/+', 'a/b/c')).toBe(false);
    expect(topicMatchesFilter('/ota/+', '/ota/x')).toBe(true);
  });

  it("narrows LinkSDK's wildcard subscriptions to the device's own topics", () => {
    // ota_private.h: OTA_FOTA_TOPIC "/ota/device/upgrade/+/+", OTA_OTA_GET_REPLY_TOPIC "/sys/+/+/thing/ota/firmware/get_reply"
    expect(grantSubscription(aliyunCodec, device, '/ota/device/upgrade/+/+')).toBe(
      '/ota/device/upgrade/a1pk/dev-1',
    );
    expect(grantSubscription(aliyunCodec, device, '/sys/+/+/thing/ota/firmware/get_reply')).toBe(
      '/sys/a1pk/dev-1/thing/ota/firmware/get_reply',
    );
    expect(grantSubscription(aliyunCodec, device, '/sys/a1pk/dev-1/thing/file/download_reply')).toBe(
      '/sys/a1pk/dev-1/thing/file/download_reply',
    );
  });

  it("refuses other devices' topics and catch-all filters", () => {
    expect(grantSubscription(aliyunCodec, device, '/ota/device/upgrade/a1pk/dev-2')).toBeUndefined();
    expect(grantSubscription(aliyunCodec, device, '/ota/device/#')).toBeUndefined();
    expect(grantSubscription(tencentCodec, device, '$ota/update/+/+')).toBe('$ota/update/a1pk/dev-1');
    expect(grantSubscription(tencentCodec, device, '#')).toBeUndefined();
  });

  it("grants the IotHub SDK's command subscription as asked", () => {
    expect(grantSubscription(iothubCodec, device, 'cmd/a1pk/dev-1/+/+/+/#')).toBe('cmd/a1pk/dev-1/+/+/+/#');
  });

  it('lets a device publish only to its own upstream topics', () => {
    expect(mayPublish(aliyunCodec, device, '/ota/device/inform/a1pk/dev-1')).toBe(true);
    expect(mayPublish(aliyunCodec, device, '/ota/device/inform/a1pk/dev-2')).toBe(false);
    expect(mayPublish(aliyunCodec, device, '/ota/device/upgrade/a1pk/dev-1')).toBe(false);
    expect(mayPublish(iothubCodec, device, 'update_status/a1pk/dev-1/5be4f4df2c33167c317beb8c')).toBe(true);
    expect(mayPublish(iothubCodec, device, 'update_status/a1pk/dev-1/+')).toBe(false);
  });
});
