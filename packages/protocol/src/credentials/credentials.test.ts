import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CredentialScheme } from './index.js';
import { deviceCredentials, parseCredentials } from './index.js';

/**
 * Aliyun doc "MQTT-TCP连接通信" worked example: clientId 12345, deviceName device, productKey pk, timestamp 789,
 * hmacsha1, deviceSecret "secret" → FAFD82A3D602B37FB0FA8B7892F24A477F851A14 ("大小写不敏感": case-insensitive).
 */
const ALIYUN_DOC = {
  clientId: '12345|securemode=3,signmethod=hmacsha1,timestamp=789|',
  username: 'device&pk',
  password: 'FAFD82A3D602B37FB0FA8B7892F24A477F851A14',
};

/**
 * Tencent key auth, with values shaped like the TencentOS-tiny sample config (`MQTT_USR_NAME`
 * "U1BZWHF7F9dev_01;12010126;O3I57;1611533066") and a known PSK; the digests were computed with Python's
 * `hmac` following Tencent's documented algorithm, independently of this code.
 */
const TENCENT_PSK = 'MTIzNDU2Nzg5MGFiY2RlZg==';
const TENCENT_USERNAME = 'U1BZWHF7F9dev_01;12010126;O3I57;1611533066';
const TENCENT_SHA256 = '80dcee62b55125eb44b8d3e2d4914cbc8d0369768f44d26b98c5348ad362a8de';
const TENCENT_SHA1 = 'dfc77d1a5d14edb2b34c3bd8a09fe412a17b6939';
const BEFORE_EXPIRY = 1611533066 * 1000 - 1;

describe('aliyun credentials', () => {
  it('verify the doc worked example, uppercase hex and all', () => {
    const parsed = parseCredentials(ALIYUN_DOC.clientId, ALIYUN_DOC.username, ALIYUN_DOC.password);
    expect(parsed).toMatchObject({ scheme: 'aliyun', device: { productKey: 'pk', deviceName: 'device' } });
    expect(parsed?.verify('secret')).toBe(true);
    expect(parsed?.verify('Secret')).toBe(false);
  });

  it('ignore unsigned parameters such as lan=JS,_v=1.2.8', () => {
    const clientId = '12345|securemode=2,signmethod=hmacsha1,timestamp=789,lan=JS,_v=1.2.8|';
    expect(parseCredentials(clientId, ALIYUN_DOC.username, ALIYUN_DOC.password)?.verify('secret')).toBe(true);
  });

  it('accept the client id SDK v3 really sends, unsigned extras and all', () => {
    // iotkit-embedded log: "ClientID : a1QdKm5axuO.test_004|securemode=2,timestamp=2524608000000,signmethod=hmacsha1,
    // gw=0,ext=0,partner_id=espressif,module_id=wroom,_fy=1.3.0,_ss=1|"
    const device = { productKey: 'a1QdKm5axuO', deviceName: 'test_004' };
    const signed = deviceCredentials('aliyun', device, 'dev-secret', {
      clientId: 'a1QdKm5axuO.test_004',
      signMethod: 'hmacsha1',
      secureMode: 2,
      timestamp: 2524608000000,
    });
    const sdkClientId =
      'a1QdKm5axuO.test_004|securemode=2,timestamp=2524608000000,signmethod=hmacsha1,gw=0,ext=0,partner_id=espressif,module_id=wroom,_fy=1.3.0,_ss=1|';
    const parsed = parseCredentials(sdkClientId, 'test_004&a1QdKm5axuO', signed.password);
    expect(parsed?.device).toEqual(device);
    expect(parsed?.verify('dev-secret')).toBe(true);
  });

  it('fall back to HMAC-SHA1 when the named method does not verify', () => {
    const clientId = '12345|securemode=3,signmethod=hmacsha256,timestamp=789|';
    expect(parseCredentials(clientId, ALIYUN_DOC.username, ALIYUN_DOC.password)?.verify('secret')).toBe(true);
  });

  it('leave the timestamp pair out of the signed text when the client id has none', () => {
    const signed = deviceCredentials('aliyun', { productKey: 'pk', deviceName: 'device' }, 'secret', {
      clientId: '12345',
      signMethod: 'hmacmd5',
      timestamp: null,
    });
    expect(signed.clientId).toBe('12345|securemode=3,signmethod=hmacmd5|');
    const parsed = parseCredentials(signed.clientId, signed.username, signed.password);
    expect(parsed?.verify('secret')).toBe(true);
    expect(
      parseCredentials(
        `${signed.clientId.slice(0, -1)},timestamp=1|`,
        signed.username,
        signed.password,
      )?.verify('secret'),
    ).toBe(false);
  });
});

describe('tencent credentials', () => {
  it('verify an HMAC-SHA256 password over the whole username with the base64-decoded PSK', () => {
    const parsed = parseCredentials('U1BZWHF7F9dev_01', TENCENT_USERNAME, `${TENCENT_SHA256};hmacsha256`, {
      now: BEFORE_EXPIRY,
    });
    expect(parsed).toMatchObject({
      scheme: 'tencent',
      device: { productKey: 'U1BZWHF7F9', deviceName: 'dev_01' },
    });
    expect(parsed?.verify(TENCENT_PSK)).toBe(true);
  });

  it('verify the HMAC-SHA1 password the C SDK sends', () => {
    const parsed = parseCredentials('U1BZWHF7F9dev_01', TENCENT_USERNAME, `${TENCENT_SHA1};hmacsha1`, {
      now: BEFORE_EXPIRY,
    });
    expect(parsed?.verify(TENCENT_PSK)).toBe(true);
  });

  it('refuse a signature whose expiry has passed', () => {
    const parsed = parseCredentials('U1BZWHF7F9dev_01', TENCENT_USERNAME, `${TENCENT_SHA256};hmacsha256`, {
      now: 1611533066 * 1000,
    });
    expect(parsed?.expiresAt).toBe(1611533066 * 1000);
    expect(parsed?.verify(TENCENT_PSK)).toBe(false);
  });

  it('find the device from the 10-character product id, and refuse a username that is not the client id', () => {
    expect(
      parseCredentials('U1BZWHF7F9dev_01', 'OTHERDEVICEdev;12010126;A;2147483647', 'x;hmacsha1'),
    ).toBeUndefined();
    expect(parseCredentials('SHORTdev', 'SHORTdev;12010126;A;2147483647', 'x;hmacsha1')).toBeUndefined();
  });

  it("sign with the C SDK's never-expiring default and any app id", () => {
    const device = { productKey: 'L4WG9V9M2M', deviceName: 'TEST2' };
    const signed = deviceCredentials('tencent', device, TENCENT_PSK, {
      connId: '5AiF2',
      appId: '21010406',
      signMethod: 'hmacsha1',
    });
    expect(signed).toEqual({
      clientId: 'L4WG9V9M2MTEST2',
      username: 'L4WG9V9M2MTEST2;21010406;5AiF2;2147483647',
      password: '1d5a14c5ab5dc2bc679e34367fe77c1e028a6022;hmacsha1',
    });
  });

  it('refuse to sign for a product id that is not 10 characters', () => {
    expect(() => deviceCredentials('tencent', { productKey: 'SHORT', deviceName: 'd' }, TENCENT_PSK)).toThrow(
      RangeError,
    );
  });
});

describe('plain credentials', () => {
  it('compare the password with the secret', () => {
    const parsed = parseCredentials('anything', 'prod/dev', 's3cret');
    expect(parsed).toMatchObject({ scheme: 'plain', device: { productKey: 'prod', deviceName: 'dev' } });
    expect(parsed?.verify('s3cret')).toBe(true);
    expect(parsed?.verify('s3cre')).toBe(false);
  });

  it('accept the password as raw MQTT bytes', () => {
    expect(parseCredentials('c', 'prod/dev', new TextEncoder().encode('s3cret'))?.verify('s3cret')).toBe(
      true,
    );
  });
});

const scheme = fc.constantFrom<CredentialScheme>('aliyun', 'tencent', 'plain');
const level = fc.stringMatching(/^[A-Za-z0-9_.@-]{1,24}$/);
const secret = fc.base64String({ minLength: 4, maxLength: 44 });
const deviceFor = (s: CredentialScheme) =>
  fc.record({
    productKey: s === 'tencent' ? fc.stringMatching(/^[A-Z0-9]{10}$/) : level,
    deviceName: level,
  });
const signed = scheme.chain((s) =>
  fc.record({
    scheme: fc.constant(s),
    device: deviceFor(s),
    secret,
    method: fc.constantFrom('hmacsha1' as const, 'hmacsha256' as const),
  }),
);

describe('credentials round trip', () => {
  it('parse back to the signing device and verify with its secret', () => {
    fc.assert(
      fc.property(signed, ({ scheme, device, secret, method }) => {
        const creds = deviceCredentials(scheme, device, secret, {
          signMethod: method,
          timestamp: 1700000000000,
        });
        const parsed = parseCredentials(creds.clientId, creds.username, creds.password);
        expect(parsed).toMatchObject({ scheme, device });
        expect(parsed?.verify(secret)).toBe(true);
      }),
    );
  });

  it('fail with a wrong secret', () => {
    fc.assert(
      fc.property(signed, secret, ({ scheme, device, secret: right }, wrong) => {
        fc.pre(Buffer.from(wrong, 'base64').toString('hex') !== Buffer.from(right, 'base64').toString('hex'));
        fc.pre(wrong !== right);
        const creds = deviceCredentials(scheme, device, right);
        expect(parseCredentials(creds.clientId, creds.username, creds.password)?.verify(wrong)).toBe(false);
      }),
    );
  });

  it('fail when any signed part of any field is tampered with', () => {
    fc.assert(
      fc.property(
        signed,
        fc.constantFrom('clientId', 'username', 'password'),
        fc.nat(),
        (input, field, at) => {
          const creds = deviceCredentials(input.scheme, input.device, input.secret, {
            timestamp: 1700000000000,
          });
          const span = signedSpan(input.scheme, field as keyof typeof creds, creds);
          fc.pre(span !== undefined);
          const [start, end] = span as [number, number];
          const text = creds[field as keyof typeof creds];
          const i = start + (at % (end - start));
          const tampered = {
            ...creds,
            [field]: text.slice(0, i) + (text[i] === 'a' ? 'b' : 'a') + text.slice(i + 1),
          };
          const parsed = parseCredentials(tampered.clientId, tampered.username, tampered.password);
          const sameIdentity =
            parsed?.device.productKey === input.device.productKey &&
            parsed?.device.deviceName === input.device.deviceName;
          expect(sameIdentity && parsed?.verify(input.secret)).toBeFalsy();
        },
      ),
    );
  });

  it('never throw on arbitrary CONNECT fields', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.string(),
        fc.oneof(fc.string(), fc.uint8Array()),
        (clientId, username, password) => {
          parseCredentials(clientId, username, password)?.verify('c2VjcmV0');
        },
      ),
    );
  });
});

/**
 * The characters of a field that the scheme protects, as [start, end). Aliyun signs only the id before the first
 * `|` and the timestamp value (`securemode`, `signmethod` and extra parameters are not signed); a plain client
 * id is not checked at all.
 */
function signedSpan(
  scheme: CredentialScheme,
  field: 'clientId' | 'username' | 'password',
  creds: { clientId: string; username: string; password: string },
): [number, number] | undefined {
  if (field !== 'clientId') return [0, creds[field].length];
  if (scheme === 'plain') return undefined;
  if (scheme === 'tencent') return [0, creds.clientId.length];
  const id = creds.clientId.indexOf('|');
  return [0, id];
}
