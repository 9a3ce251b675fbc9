import type { DeviceRef } from './vocabulary.js';

/**
 * One topic level taken from a device identity: non-empty and free of the characters that would change the
 * topic's shape (`/`) or turn it into a filter (`+`, `#`), and of NUL (forbidden in MQTT strings).
 */
export function isTopicLevel(value: string): boolean {
  return value.length > 0 && !/[/+#]/.test(value) && !value.includes('\0');
}

/** A device whose product key and name can be written into topics. */
export function isTopicDevice(device: DeviceRef): boolean {
  return isTopicLevel(device.productKey) && isTopicLevel(device.deviceName);
}

/**
 * Guards every topic an encoder builds: a device name such as `a/b` or `#` would address other devices'
 * topics, so encoding refuses it (a programming error upstream, hence a throw rather than a result).
 */
export function assertTopicDevice(device: DeviceRef): void {
  if (!isTopicDevice(device)) {
    throw new RangeError(
      `device ${JSON.stringify(device.productKey)}/${JSON.stringify(device.deviceName)} cannot be written into an MQTT topic`,
    );
  }
}

/** The device named by two topic levels, or undefined when either is not a valid level. */
export function deviceFromLevels(
  productKey: string | undefined,
  deviceName: string | undefined,
): DeviceRef | undefined {
  if (productKey === undefined || deviceName === undefined) return undefined;
  if (!isTopicLevel(productKey) || !isTopicLevel(deviceName)) return undefined;
  return { productKey, deviceName };
}
