/**
 * Aliyun MQTT credentials, as real Aliyun device SDKs send them (wire-protocols.md §1, "MQTT credentials";
 * doc "MQTT-TCP连接通信"):
 * - clientId `${id}|securemode=3,signmethod=hmacsha1,timestamp=${ts}|` (also `hmacsha256`, `hmacmd5`;
 *   securemode 2 = TLS); other parameters between the bars (`lan=JS,_v=1.2.8`) are not signed;
 * - username `${deviceName}&${productKey}`;
 * - password = hex HMAC(deviceSecret, `clientId${id}deviceName${dn}productKey${pk}timestamp${ts}`), the
 *   timestamp pair left out when the client id has none.
 * Some SDKs compute every HMAC with SHA-1 whatever `signmethod` says, so verification falls back to SHA-1.
 */
import type { DeviceRef } from '../vocabulary.js';
import { hmacHex, safeEqual, signMethodOf } from './hmac.js';
import type { CredentialOptions, MqttCredentials, ParsedCredentials, SignMethod } from './types.js';

/** Signs a CONNECT the way LinkSDK 4 does (id `${pk}.${dn}`, `hmacsha256`) unless told otherwise. */
export function aliyunCredentials(
  device: DeviceRef,
  secret: string,
  opts: CredentialOptions = {},
): MqttCredentials {
  const { productKey, deviceName } = device;
  const id = opts.clientId ?? `${productKey}.${deviceName}`;
  if (id.length === 0 || id.includes('|'))
    throw new RangeError('aliyun client id must be non-empty and free of "|"');
  if (
    deviceName.includes('&') ||
    productKey.includes('&') ||
    productKey.length === 0 ||
    deviceName.length === 0
  ) {
    throw new RangeError('aliyun product key and device name must be non-empty and free of "&"');
  }
  const method = opts.signMethod ?? 'hmacsha256';
  const timestamp = opts.timestamp === null ? undefined : String(opts.timestamp ?? Date.now());
  const params = [`securemode=${opts.secureMode ?? 3}`, `signmethod=${method}`];
  if (timestamp !== undefined) params.push(`timestamp=${timestamp}`);
  return {
    clientId: `${id}|${params.join(',')}|`,
    username: `${deviceName}&${productKey}`,
    password: hmacHex(method, secret, signedContent(id, device, timestamp)),
  };
}

/** Recognises Aliyun credentials, or undefined when they are not in that shape. */
export function parseAliyunCredentials(
  clientId: string,
  username: string,
  password: string,
): ParsedCredentials | undefined {
  const match = /^([^|]+)\|([^|]*)\|$/.exec(clientId);
  const amp = username.lastIndexOf('&');
  if (!match || amp <= 0 || amp === username.length - 1) return undefined;
  const id = match[1] as string;
  const device: DeviceRef = { productKey: username.slice(amp + 1), deviceName: username.slice(0, amp) };
  const params = new Map<string, string>();
  for (const pair of (match[2] as string).split(',')) {
    const eq = pair.indexOf('=');
    if (eq > 0) params.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
  }
  const timestamp = params.get('timestamp');
  const named = signMethodOf(params.get('signmethod'));
  const methods: SignMethod[] = named && named !== 'hmacsha1' ? [named, 'hmacsha1'] : ['hmacsha1'];
  const given = password.toLowerCase();
  return {
    scheme: 'aliyun',
    device,
    verify(secret: string): boolean {
      const content = signedContent(id, device, timestamp);
      // Every candidate is computed and compared, so timing does not reveal which one matched.
      let ok = false;
      for (const method of methods) ok = safeEqual(hmacHex(method, secret, content), given) || ok;
      return ok;
    },
  };
}

function signedContent(id: string, device: DeviceRef, timestamp: string | undefined): string {
  const base = `clientId${id}deviceName${device.deviceName}productKey${device.productKey}`;
  return timestamp === undefined ? base : `${base}timestamp${timestamp}`;
}
