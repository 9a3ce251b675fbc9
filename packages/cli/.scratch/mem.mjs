import http from 'node:http';
import { createReadStream, statSync } from 'node:fs';
import { encodeMultipart } from '../dist/api/multipart-encoder.js';
const file = '/tmp/aloft-try/big.bin';
const size = statSync(file).size;
const s = http.createServer((req, res) => {
  globalThis.recv = 0; let n = 0;
  req.on('data', (c) => { n += c.length; globalThis.recv = n; req.pause(); setTimeout(() => req.resume(), 2); });
  req.on('end', () => res.end(String(n)));
});
await new Promise((r) => s.listen(0, '127.0.0.1', r));
let sent = 0;
async function* content() { for await (const c of createReadStream(file, { highWaterMark: 1 << 20 })) { sent += c.length; yield c; } }
const body = encodeMultipart([{ name: 'version', value: '1' }, { name: 'file', fileName: 'f', size, content: content() }]);
const timer = setInterval(() => { const m = process.memoryUsage(); console.log(`recv ${(globalThis.recv/1048576).toFixed(0)} sent ${(sent/1048576).toFixed(0)} MiB rss ${(m.rss/1048576).toFixed(0)} ext ${(m.external/1048576).toFixed(0)} ab ${(m.arrayBuffers/1048576).toFixed(0)}`); }, 300);
const mode = process.argv[2]; const kind = process.argv[3]; const mode2 = () => kind === 'iter' ? body.stream() : kind === 'pull' ? pullStream(body.stream()) : ReadableStream.from(body.stream());
function pullStream(it) { return new ReadableStream({ async pull(c) { const { value, done } = await it.next(); if (done) c.close(); else c.enqueue(value); } }, { highWaterMark: 0 }); }
const r = await fetch(`http://127.0.0.1:${s.address().port}/`, { method: 'POST', body: mode2() , duplex: 'half', headers: mode === 'cl' ? { 'content-length': String(body.length), 'content-type': body.contentType } : { 'content-type': body.contentType } });
console.log(await r.text());
clearInterval(timer); s.close();
