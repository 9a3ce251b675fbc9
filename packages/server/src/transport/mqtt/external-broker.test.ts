import { describe, expect, it } from 'vitest';
import { sharedFilter } from './external-broker.js';

describe('sharedFilter', () => {
  it('joins the share group for ordinary topics', () => {
    expect(sharedFilter('/ota/device/inform/+/+', 'aloft')).toBe('$share/aloft//ota/device/inform/+/+');
    expect(sharedFilter('update_status/+/+/+', 'g1', true)).toBe('$share/g1/update_status/+/+/+');
  });

  it('subscribes `$` topics plainly unless the broker shares them', () => {
    expect(sharedFilter('$ota/report/+/+', 'aloft')).toBe('$ota/report/+/+');
    expect(sharedFilter('$ota/report/+/+', 'aloft', true)).toBe('$share/aloft/$ota/report/+/+');
  });
});
