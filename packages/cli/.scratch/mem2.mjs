import { createReadStream, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
const file = '/tmp/aloft-try/big.bin';
let sent = 0;
const h = createHash('sha256');
for await (const c of createReadStream(file, { highWaterMark: 1 << 20 })) { sent += c.length; h.update(c); if (sent % (40<<20) < (1<<20)) { const m = process.memoryUsage(); console.log(`sent ${(sent/1048576).toFixed(0)} rss ${(m.rss/1048576).toFixed(0)} ab ${(m.arrayBuffers/1048576).toFixed(0)}`); } }
