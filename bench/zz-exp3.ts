import { createServer } from 'node:net';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';

const aedes = await Aedes.createBroker({});
const server = createServer(aedes.handle);
await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
const port = (server.address() as { port: number }).port;
const conc = Number(process.argv[2] ?? 1);
const n = 500;
let next = 0;
const t = performance.now();
const clients: mqtt.MqttClient[] = [];
const lat: number[] = [];
await Promise.all(Array.from({ length: conc }, async () => {
  while (next < n) {
    const i = next++;
    const t0 = performance.now();
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: `c${i}`, reconnectPeriod: 0 });
    await c.subscribeAsync([`t/${i}`], { qos: 1 });
    lat.push(performance.now() - t0);
    clients.push(c);
  }
}));
lat.sort((a, b) => a - b);
console.log('conc', conc, 'total ms', Math.round(performance.now() - t), 'p50', lat[250]?.toFixed(1), 'p99', lat[495]?.toFixed(1), 'cpu', process.cpuUsage());
process.exit(0);
