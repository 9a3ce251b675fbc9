import { describe, expect, it } from 'vitest';
import { encodeMultipart, type MultipartPart } from './multipart-encoder.js';

async function* chunksOf(...chunks: string[]): AsyncGenerator<Uint8Array> {
  for (const chunk of chunks) yield new TextEncoder().encode(chunk);
}

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const chunk of stream) parts.push(chunk);
  return Buffer.concat(parts);
}

describe('encodeMultipart', () => {
  it('encodes fields then the file, byte for byte as RFC 7578 says', async () => {
    const body = encodeMultipart(
      [
        { name: 'version', value: '1.2.0' },
        { name: 'file', fileName: 'fw.bin', size: 6, content: chunksOf('abc', 'def') },
      ],
      'XyZ',
    );
    expect(body.contentType).toBe('multipart/form-data; boundary=XyZ');
    const bytes = await collect(body.stream());
    expect(bytes.toString()).toBe(
      '--XyZ\r\nContent-Disposition: form-data; name="version"\r\n\r\n1.2.0' +
        '\r\n--XyZ\r\nContent-Disposition: form-data; name="file"; filename="fw.bin"\r\n' +
        'Content-Type: application/octet-stream\r\n\r\nabcdef' +
        '\r\n--XyZ--\r\n',
    );
    expect(body.length).toBe(bytes.byteLength);
  });

  it('produces a body a standard multipart parser reads back, with a length that matches', async () => {
    const file = new Uint8Array(300_000).map((_, i) => (i * 7) % 256);
    async function* content(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < file.length; i += 65_536) yield file.subarray(i, i + 65_536);
    }
    const parts: MultipartPart[] = [
      { name: 'version', value: '2.0.0' },
      { name: 'description', value: 'überarbeitet: "quotes" & ünïcödé\r\nsecond line' },
      { name: 'file', fileName: 'my "odd" name.bin', size: file.byteLength, content: content() },
    ];
    const body = encodeMultipart(parts);
    const bytes = await collect(body.stream());
    expect(bytes.byteLength).toBe(body.length);

    const form = await new Response(bytes, { headers: { 'content-type': body.contentType } }).formData();
    expect(form.get('version')).toBe('2.0.0');
    expect(form.get('description')).toBe('überarbeitet: "quotes" & ünïcödé\r\nsecond line');
    const received = form.get('file') as File;
    expect(received.name).toBe('my "odd" name.bin');
    expect(Buffer.from(await received.arrayBuffer()).equals(file)).toBe(true);
  });

  it('streams: the file is not read before the encoder reaches it, nor read ahead of the consumer', async () => {
    let pulled = 0;
    async function* file(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < 4; i++) {
        pulled++;
        yield new Uint8Array(1024);
      }
    }
    const stream = encodeMultipart([
      { name: 'version', value: '1' },
      { name: 'file', fileName: 'f', size: 4096, content: file() },
    ]).stream();
    await stream.next(); // the version part's headers
    await stream.next(); // its value
    await stream.next(); // the file part's headers
    expect(pulled).toBe(0);
    await stream.next(); // the first file chunk
    expect(pulled).toBe(1);
    await stream.return(undefined);
  });

  it('fails rather than send a body that disagrees with its Content-Length', async () => {
    const grown = encodeMultipart([{ name: 'file', fileName: 'f.bin', size: 3, content: chunksOf('abcd') }]);
    await expect(collect(grown.stream())).rejects.toThrow('f.bin grew while being uploaded');
    const shrunk = encodeMultipart([{ name: 'file', fileName: 'f.bin', size: 5, content: chunksOf('abcd') }]);
    await expect(collect(shrunk.stream())).rejects.toThrow('f.bin shrank while being uploaded');
  });

  it('refuses a boundary that could not be sent unquoted', () => {
    expect(() => encodeMultipart([], 'has space')).toThrow('invalid multipart boundary');
  });
});
