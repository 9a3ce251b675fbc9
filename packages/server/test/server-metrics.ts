import type { TestServer } from '../src/testing/test-server.js';

/** Version reports a server has taken in, from its Prometheus metrics: which instance handled what. */
export async function versionMessages(t: TestServer): Promise<number> {
  const text = await (await fetch(`${t.server.httpUrl}/metrics`)).text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith('aloft_device_messages_total{') && l.includes('type="version"'));
  return line ? Number(line.split(' ').pop()) : 0;
}
