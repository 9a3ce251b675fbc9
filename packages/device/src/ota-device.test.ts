import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { OtaDevice } from './ota-device.js';
import type { OtaDeviceOptions } from './ota-device-options.js';

const base: OtaDeviceOptions = {
  brokerUrl: 'mqtt://127.0.0.1:1',
  productKey: 'ABCDEFGHIJ',
  deviceName: 'dev-1',
  secret: 'c2VjcmV0',
  dialect: 'aliyun',
  modules: { default: '1.0.0' },
  dataDir: '/nonexistent',
};
const publicKey = generateKeyPairSync('ed25519').publicKey.export({ format: 'pem', type: 'spki' }).toString();

describe('new OtaDevice', () => {
  it('takes the versions it starts with', () => {
    const device = new OtaDevice({ ...base, modules: { default: '1.0.0', MCU: '3.2' } });
    expect(device.modules).toEqual({ default: '1.0.0', MCU: '3.2' });
    expect(device.device).toEqual({ productKey: 'ABCDEFGHIJ', deviceName: 'dev-1' });
    expect(device.connected).toBe(false);
  });

  it('refuses a device without modules', () => {
    expect(() => new OtaDevice({ ...base, modules: {} })).toThrow(TypeError);
  });

  it('refuses a Tencent device with modules other than default: its reports carry no module', () => {
    expect(() => new OtaDevice({ ...base, dialect: 'tencent', modules: { MCU: '1' } })).toThrow(RangeError);
  });

  it('refuses a public key for Tencent, whose tasks cannot carry a signature', () => {
    expect(() => new OtaDevice({ ...base, dialect: 'tencent', publicKey })).toThrow(RangeError);
    expect(() => new OtaDevice({ ...base, dialect: 'iothub', publicKey })).not.toThrow();
  });

  it('refuses a key that is not ed25519 at once, not at the first download', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
    expect(() => new OtaDevice({ ...base, publicKey: rsa })).toThrow(TypeError);
  });

  it('cannot report before connecting', async () => {
    const device = new OtaDevice(base);
    await expect(device.reportVersion('default', '1.0.1')).rejects.toThrow('call connect() first');
  });

  it('rejects connect() when the broker cannot be reached', async () => {
    const device = new OtaDevice({ ...base, mqtt: { connectTimeout: 2000 } });
    await expect(device.connect()).rejects.toThrow();
    expect(device.mqtt).toBeUndefined();
    await device.close();
  });
});
