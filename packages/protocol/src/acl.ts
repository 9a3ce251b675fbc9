import type { DialectCodec } from './codec.js';
import type { DeviceRef } from './vocabulary.js';

/** MQTT topic matching: `+` is one level, `#` (last) the rest, including nothing. */
export function topicMatchesFilter(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return i === f.length - 1;
    if (i >= t.length || (f[i] !== '+' && f[i] !== t[i])) return false;
  }
  return f.length === t.length;
}

/** Whether a device may publish to `topic` under its dialect's ACL. */
export function mayPublish(codec: DialectCodec, device: DeviceRef, topic: string): boolean {
  if (topic.includes('+') || topic.includes('#')) return false;
  return codec.deviceTopics(device).publish.some((filter) => topicMatchesFilter(filter, topic));
}

/**
 * The subscription to grant for a filter a device asks for, or undefined to refuse it.
 * Allowed filters are granted as they are. LinkSDK 4 subscribes with wildcards in place of its own identity
 * (`/ota/device/upgrade/+/+`, `/sys/+/+/thing/ota/firmware/get_reply`, `ota_private.h`): such a filter is
 * narrowed to the device's own topic, which is what it receives from Aliyun too, instead of being refused or,
 * worse, granted (it would see every device's upgrade URLs). aedes' `authorizeSubscribe` can grant the
 * narrowed filter in place of the requested one.
 */
export function grantSubscription(
  codec: DialectCodec,
  device: DeviceRef,
  filter: string,
): string | undefined {
  const allowed = codec.deviceTopics(device).subscribe;
  for (const entry of allowed) {
    const narrowed = narrowTo(entry, filter);
    if (narrowed !== undefined) return narrowed;
  }
  return undefined;
}

/** `filter` if `entry` covers it, the filter with its `+` levels filled from `entry` if that is covered, else undefined. */
function narrowTo(entry: string, filter: string): string | undefined {
  const e = entry.split('/');
  const f = filter.split('/');
  const out: string[] = [];
  for (let i = 0; i < f.length; i++) {
    const want = f[i] as string;
    const have = e[i];
    if (have === '#') return [...out, ...f.slice(i)].join('/');
    if (have === undefined) return undefined;
    if (want === '#') return undefined;
    if (have === '+' || have === want) out.push(want);
    else if (want === '+') out.push(have);
    else return undefined;
  }
  return f.length === e.length ? out.join('/') : undefined;
}
