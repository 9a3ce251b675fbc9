import { deviceCredentials } from '@aloft/protocol';
import mqtt from 'mqtt';
const [name, secret, delay, version] = process.argv.slice(2);
const c = await mqtt.connectAsync('mqtt://127.0.0.1:18883', { ...deviceCredentials('aliyun', { productKey: 'lamp', deviceName: name }, secret), reconnectPeriod: 0 });
await new Promise(r => setTimeout(r, Number(delay)));
await c.publishAsync(`/ota/device/inform/lamp/${name}`, `{"id":"1","params":{"version":"${version}"}}`, { qos: 1 });
await c.endAsync();
