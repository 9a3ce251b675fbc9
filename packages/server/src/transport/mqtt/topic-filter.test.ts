import { describe, expect, it } from 'vitest';
import { allowedBy, subscriptionAllowed, topicMatches } from './topic-filter.js';

describe('topicMatches', () => {
  it('matches single-level and multi-level wildcards', () => {
    expect(topicMatches('/ota/device/inform/+/+', '/ota/device/inform/pk/dn')).toBe(true);
    expect(topicMatches('/ota/device/inform/+/+', '/ota/device/inform/pk/dn/x')).toBe(false);
    expect(topicMatches('update_ota_status/pk/dn/#', 'update_ota_status/pk/dn/42')).toBe(true);
    expect(topicMatches('update_ota_status/pk/dn/#', 'update_ota_status/pk/dn')).toBe(true);
    expect(topicMatches('a/b', 'a/c')).toBe(false);
  });

  it('allows a topic only when some filter matches it', () => {
    expect(allowedBy(['$ota/report/pk/dn'], '$ota/report/pk/dn')).toBe(true);
    expect(allowedBy(['$ota/report/pk/dn'], '$ota/report/pk/other')).toBe(false);
  });
});

describe('subscriptionAllowed', () => {
  it('refuses a wildcard subscription wider than what the device may read', () => {
    const allowed = ['/ota/device/upgrade/pk/dn', 'cmd/pk/dn/+/+/#'];
    expect(subscriptionAllowed(allowed, '/ota/device/upgrade/pk/dn')).toBe(true);
    expect(subscriptionAllowed(allowed, '/ota/device/upgrade/pk/+')).toBe(false);
    expect(subscriptionAllowed(allowed, '#')).toBe(false);
    expect(subscriptionAllowed(allowed, 'cmd/pk/dn/ota_upgrade/json/#')).toBe(true);
    expect(subscriptionAllowed(allowed, 'cmd/pk/+/ota_upgrade/json/#')).toBe(false);
  });
});
