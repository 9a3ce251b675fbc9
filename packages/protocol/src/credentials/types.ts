import type { DeviceRef } from '../vocabulary.js';

/** How a device signs its MQTT CONNECT. */
export type CredentialScheme = 'aliyun' | 'tencent' | 'plain';

/** HMAC named in the credentials. Tencent accepts only `hmacsha1` and `hmacsha256`. */
export type SignMethod = 'hmacsha1' | 'hmacsha256' | 'hmacmd5';

/** What a device puts in its MQTT CONNECT packet. */
export interface MqttCredentials {
  clientId: string;
  username: string;
  password: string;
}

/** Options for `deviceCredentials`; each applies to the schemes named. */
export interface CredentialOptions {
  /** aliyun: the id before the first `|` (default `${productKey}.${deviceName}`, like LinkSDK); plain: the whole client id. */
  clientId?: string;
  /** aliyun (default `hmacsha256`) and tencent (default `hmacsha256`, the doc's choice; the C SDK uses `hmacsha1`). */
  signMethod?: SignMethod;
  /** aliyun: 2 = TLS, 3 = TCP (default 3). Not signed. */
  secureMode?: number;
  /** aliyun: the signed `timestamp` parameter (default now in ms); `null` leaves it out. */
  timestamp?: string | number | null;
  /** tencent: the connection id (default 5 random alphanumerics, like the C SDK's `get_next_conn_id`). */
  connId?: string;
  /** tencent: signature expiry in unix seconds (default 2147483647, the C SDK's value when it has no clock). */
  expiry?: number;
  /** tencent: the sdkappid field (default `12010126`, the documented value; the C SDK sends `21010406`). */
  appId?: string;
}

/** Credentials recognised from a CONNECT packet, before the device's secret is known. */
export interface ParsedCredentials {
  scheme: CredentialScheme;
  device: DeviceRef;
  /** Unix ms after which the signature is refused (tencent). */
  expiresAt?: number;
  /** True when the password was made with this device secret (and, for tencent, has not expired). Constant time. */
  verify(secret: string): boolean;
}

/** Options for `parseCredentials`. */
export interface ParseOptions {
  /** The current time in unix ms for expiry checks (default: the clock when `verify` runs). */
  now?: number;
}
