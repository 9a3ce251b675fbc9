/**
 * Tencent IoT Hub / IoT Explorer key authentication.
 *
 * What the device SDK actually does (checked in the C SDK sources, not just the doc):
 * - `mqtt_client.c` (`qcloud_iot_mqtt_init` / `_qcloud_iot_mqtt_client_init`): client id = `"%s%s"` of
 *   product id and device name, no separator; the secret is base64-decoded (`utils_base64decode`) into the HMAC key.
 * - `mqtt_client_connect.c` (`_serialize_connect_packet`) / `_mqtt_client_connect_option_init`: username =
 *   `"%s;%s;%s;%ld"` of client id, `QCLOUD_IOT_DEVICE_SDK_APPID`, conn id, expiry; the SDK's APPID macro is
 *   `"21010406"` while the doc says to send the fixed `12010126`: the value is opaque here (it is inside the
 *   signed username either way). The conn id is 5 random characters (`get_next_conn_id`, `MAX_CONN_ID_LEN` 6).
 *   The expiry is `LONG_MAX` (older SDK) or `0x7fffffff` (newer) unless `MAX_ACCESS_EXPIRE_TIMEOUT` is set,
 *   i.e. effectively never; the doc says unix seconds.
 * - password = `"%s;hmacsha1"` of the lower-case hex HMAC-SHA1 (`utils_hmac_sha1`, `_hb2hex` → 'a'..'f')
 *   over the whole username, sent only without TLS (with TLS the PSK goes into the TLS-PSK handshake instead).
 *   The doc ("MQTT 接入", `tencentyun/qcloud_iot_mqtt_sign`) allows `hmacsha256` too, which hand-written
 *   devices use; both are accepted.
 * - `qcloud_iot_export.h`: `MAX_SIZE_OF_PRODUCT_ID` is 10. Product ids are 10 alphanumerics, which is the only
 *   way to split `${productId}${deviceName}` back apart.
 * An expiry in the past is refused.
 */
import { randomInt } from 'node:crypto';
import type { DeviceRef } from '../vocabulary.js';
import { hmacHex, safeEqual } from './hmac.js';
import type { CredentialOptions, MqttCredentials, ParsedCredentials, ParseOptions } from './types.js';

/** Tencent product ids are exactly 10 characters (`MAX_SIZE_OF_PRODUCT_ID`). */
export const TENCENT_PRODUCT_ID_LENGTH = 10;
const PRODUCT_ID = /^[A-Za-z0-9]{10}$/;
const CONN_ID_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Signs a CONNECT like a Tencent device (HMAC-SHA256 by default). */
export function tencentCredentials(
  device: DeviceRef,
  secret: string,
  opts: CredentialOptions = {},
): MqttCredentials {
  if (!PRODUCT_ID.test(device.productKey)) {
    throw new RangeError(
      `tencent product ids are 10 alphanumerics (got ${JSON.stringify(device.productKey)})`,
    );
  }
  if (device.deviceName.length === 0 || device.deviceName.includes(';')) {
    throw new RangeError('tencent device names must be non-empty and free of ";"');
  }
  const method = opts.signMethod ?? 'hmacsha256';
  if (method !== 'hmacsha1' && method !== 'hmacsha256')
    throw new RangeError(`tencent does not sign with ${method}`);
  const connId = opts.connId ?? randomConnId();
  const appId = opts.appId ?? '12010126';
  if ([connId, appId].some((part) => part.length === 0 || part.includes(';'))) {
    throw new RangeError('tencent conn id and app id must be non-empty and free of ";"');
  }
  const clientId = `${device.productKey}${device.deviceName}`;
  const username = `${clientId};${appId};${connId};${Math.floor(opts.expiry ?? 0x7fffffff)}`;
  return { clientId, username, password: `${hmacHex(method, psk(secret), username)};${method}` };
}

/** Recognises Tencent key-auth credentials, or undefined when they are not in that shape. */
export function parseTencentCredentials(
  clientId: string,
  username: string,
  password: string,
  opts: ParseOptions = {},
): ParsedCredentials | undefined {
  const parts = username.split(';');
  const [id, appId, connId, expiryText] = parts;
  if (parts.length !== 4 || id !== clientId || !appId || !connId || !/^\d{1,19}$/.test(expiryText ?? '')) {
    return undefined;
  }
  const productKey = clientId.slice(0, TENCENT_PRODUCT_ID_LENGTH);
  const deviceName = clientId.slice(TENCENT_PRODUCT_ID_LENGTH);
  if (!PRODUCT_ID.test(productKey) || deviceName.length === 0) return undefined;
  const semi = password.lastIndexOf(';');
  const method = password.slice(semi + 1);
  if (semi <= 0 || (method !== 'hmacsha1' && method !== 'hmacsha256')) return undefined;
  const given = password.slice(0, semi).toLowerCase();
  const expiresAt = Number(expiryText) * 1000;
  return {
    scheme: 'tencent',
    device: { productKey, deviceName },
    expiresAt,
    verify(secret: string): boolean {
      const matches = safeEqual(hmacHex(method, psk(secret), username), given);
      return matches && expiresAt > (opts.now ?? Date.now());
    },
  };
}

/** The device PSK is distributed base64-encoded; the HMAC key is its decoded bytes. */
function psk(secret: string): Uint8Array {
  return Buffer.from(secret, 'base64');
}

function randomConnId(): string {
  let id = '';
  for (let i = 0; i < 5; i++) id += CONN_ID_CHARS[randomInt(CONN_ID_CHARS.length)];
  return id;
}
