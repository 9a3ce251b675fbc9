import type { DeviceRef } from '../vocabulary.js';
import { aliyunCredentials, parseAliyunCredentials } from './aliyun.js';
import { parsePlainCredentials, plainCredentials } from './plain.js';
import { parseTencentCredentials, tencentCredentials } from './tencent.js';
import type {
  CredentialOptions,
  CredentialScheme,
  MqttCredentials,
  ParsedCredentials,
  ParseOptions,
} from './types.js';

export { TENCENT_PRODUCT_ID_LENGTH } from './tencent.js';
export type {
  CredentialOptions,
  CredentialScheme,
  MqttCredentials,
  ParsedCredentials,
  ParseOptions,
  SignMethod,
} from './types.js';

/** The schemes, in the order `parseCredentials` tries them. */
export const CREDENTIAL_SCHEMES: readonly CredentialScheme[] = ['aliyun', 'tencent', 'plain'];

/**
 * The MQTT CONNECT credentials a device of `scheme` sends (device side; also handy in tests and tools).
 * Throws RangeError when the device cannot be expressed in the scheme (e.g. a Tencent product id that is
 * not 10 characters).
 */
export function deviceCredentials(
  scheme: CredentialScheme,
  device: DeviceRef,
  secret: string,
  opts?: CredentialOptions,
): MqttCredentials {
  switch (scheme) {
    case 'aliyun':
      return aliyunCredentials(device, secret, opts);
    case 'tencent':
      return tencentCredentials(device, secret, opts);
    case 'plain':
      return plainCredentials(device, secret, opts);
  }
}

/**
 * Server side: which device a CONNECT claims to be, before looking up its secret; then `verify(secret)`.
 * Undefined when the credentials fit no scheme. Aliyun is recognised by its `id|params|` client id, Tencent by
 * its four-part `;` username and `;hmacsha*` password, plain by a `productKey/deviceName` username.
 * Never throws; the password may be the raw MQTT bytes.
 */
export function parseCredentials(
  clientId: string,
  username: string,
  password: string | Uint8Array,
  opts?: ParseOptions,
): ParsedCredentials | undefined {
  if (typeof clientId !== 'string' || typeof username !== 'string') return undefined;
  const secretText = typeof password === 'string' ? password : textOf(password);
  if (secretText === undefined) return undefined;
  return (
    parseAliyunCredentials(clientId, username, secretText) ??
    parseTencentCredentials(clientId, username, secretText, opts) ??
    parsePlainCredentials(username, secretText)
  );
}

function textOf(bytes: unknown): string | undefined {
  if (!(bytes instanceof Uint8Array)) return undefined;
  return new TextDecoder().decode(bytes);
}
