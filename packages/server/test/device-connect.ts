import { type DeviceRef, deviceCredentials } from '@aloft/protocol';
import mqtt, { type MqttClient } from 'mqtt';

export type CredentialScheme = 'aliyun' | 'tencent' | 'plain';

/** Connects a plain mqtt.js client as a device, with the credentials its vendor SDK would send. */
export async function connectDevice(
  url: string,
  scheme: CredentialScheme,
  device: DeviceRef,
  secret: string,
): Promise<MqttClient> {
  const credentials = deviceCredentials(scheme, device, secret);
  return mqtt.connectAsync(url, { ...credentials, reconnectPeriod: 0, connectTimeout: 5000 });
}

/** Tries to connect and reports whether the broker refused. */
export async function connectionRefused(url: string, options: mqtt.IClientOptions): Promise<boolean> {
  try {
    const client = await mqtt.connectAsync(url, { ...options, reconnectPeriod: 0, connectTimeout: 5000 });
    await client.endAsync();
    return false;
  } catch {
    return true;
  }
}
