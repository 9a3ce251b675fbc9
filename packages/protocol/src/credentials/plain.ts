import type { DeviceRef } from '../vocabulary.js';
import { safeEqual } from './hmac.js';
import type { CredentialOptions, MqttCredentials, ParsedCredentials } from './types.js';

/**
 * Aloft's own simple scheme for devices without a vendor SDK: username `${productKey}/${deviceName}`,
 * password the device secret itself (so use it over TLS). The client id is free.
 */
export function plainCredentials(
  device: DeviceRef,
  secret: string,
  opts: CredentialOptions = {},
): MqttCredentials {
  const { productKey, deviceName } = device;
  if (!productKey || !deviceName || productKey.includes('/') || deviceName.includes('/')) {
    throw new RangeError('plain credentials need a product key and device name free of "/"');
  }
  return {
    clientId: opts.clientId ?? `${productKey}.${deviceName}`,
    username: `${productKey}/${deviceName}`,
    password: secret,
  };
}

/** Recognises plain credentials, or undefined when the username is not `${productKey}/${deviceName}`. */
export function parsePlainCredentials(username: string, password: string): ParsedCredentials | undefined {
  const parts = username.split('/');
  const [productKey, deviceName] = parts;
  if (parts.length !== 2 || !productKey || !deviceName) return undefined;
  return {
    scheme: 'plain',
    device: { productKey, deviceName },
    verify: (secret: string) => safeEqual(password, secret),
  };
}
