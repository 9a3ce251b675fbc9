import { type DeviceRef, type Dialect, parseCredentials } from '@aloft/protocol';
import type { DeviceRepository } from './ports/device-repository.js';

/** Who a connecting client turned out to be. */
export type DeviceAuthResult =
  | { ok: true; device: DeviceRef; deviceId: number; dialect: Dialect; scheme: string }
  | {
      ok: false;
      reason: 'unrecognized_credentials' | 'unknown_device' | 'bad_signature';
      device?: DeviceRef;
    };

/**
 * Authenticates an MQTT CONNECT against the registered devices, whatever credential scheme the device's SDK uses
 * (Aliyun signature, Tencent signature, or plain `productKey/deviceName` + secret).
 */
export class DeviceAuthenticator {
  constructor(private readonly devices: DeviceRepository) {}

  async authenticate(clientId: string, username: string, password: string): Promise<DeviceAuthResult> {
    const credentials = parseCredentials(clientId, username, password);
    if (!credentials) return { ok: false, reason: 'unrecognized_credentials' };
    const { device } = credentials;
    const record = await this.devices.credentials(device.productKey, device.deviceName);
    if (!record) return { ok: false, reason: 'unknown_device', device };
    if (!credentials.verify(record.secret)) return { ok: false, reason: 'bad_signature', device };
    return { ok: true, device, deviceId: record.id, dialect: record.dialect, scheme: credentials.scheme };
  }
}
