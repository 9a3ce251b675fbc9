import http from 'node:http';
import { createReadStream, statSync } from 'node:fs';
import { encodeMultipart } from '../dist/api/multipart-encoder.js';
import { streamRequest } from '../dist/api/stream-request.js';
const file = '/tmp/aloft-try/big.bin';
const size = statSync(file).size;
let recv = 0;
const s = http.createServer((req, res) => { req.on('data', (c) => { recv += c.length; }); req.on('end', () => res.end(String(recv))); });
await new Promise((r) => s.listen(0, '127.0.0.1', r));
let sent = 0;
async function* content() { for await (const c of createReadStream(file, { highWaterMark: 1 << 20 })) { sent += c.length; yield c; } }
const body = encodeMultipart([{ name: 'version', value: '1' }, { name: 'file', fileName: 'f', size, content: content() }]);
let max = 0;
const timer = setInterval(() => { const m = process.memoryUsage(); max = Math.max(max, m.rss); }, 50);
const r = await streamRequest(new URL(`http://127.0.0.1:${s.address().port}/`), 'POST', { 'content-length': String(body.length), 'content-type': body.contentType }, body.stream());
console.log(r.status, await r.text(), body.length, 'max rss MiB', (max / 1048576).toFixed(0));
clearInterval(timer); s.close();
