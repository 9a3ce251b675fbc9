import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc16Ibm } from '../crc16-ibm.js';
import { device as anyDevice } from '../testing/arbitraries.js';
import { bytes, messagesOf, payloadBytes } from '../testing/wire.js';
import type { FileBlockRequest } from '../vocabulary.js';
import { aliyunCodec } from './aliyun.js';
import { decodeFileBlockReply, encodeFileBlockReply, encodeFileBlockRequest } from './aliyun-file-block.js';
import { LINKSDK_FILE_DOWNLOAD } from './fixtures/aliyun-sdk.js';

const device = { productKey: 'a1pk', deviceName: 'dev-1' };
const topic = '/sys/a1pk/dev-1/thing/file/download';

describe('aliyun MQTT block download', () => {
  it("reads LinkSDK's block request, trailing comma inside fileInfo and all", () => {
    expect(messagesOf(aliyunCodec.decode(topic, bytes(LINKSDK_FILE_DOWNLOAD)))).toEqual([
      {
        kind: 'file_block_request',
        requestId: '1',
        fileToken: 'default',
        streamId: 1234,
        fileId: 1,
        size: 5120,
        offset: 10240,
      },
    ]);
  });

  it('refuses block sizes outside 1..128 KiB and negative offsets', () => {
    const ask = (size: number, offset: number) =>
      aliyunCodec.decode(
        topic,
        bytes(
          `{"id":"1","params":{"fileInfo":{"streamId":1,"fileId":1},"fileBlock":{"size":${size},"offset":${offset}}}}`,
        ),
      );
    expect(ask(0, 0)).toMatchObject({ ok: false, code: 'invalid_payload' });
    expect(ask(131073, 0)).toMatchObject({ ok: false, code: 'invalid_payload' });
    expect(ask(5120, -1)).toMatchObject({ ok: false, code: 'invalid_payload' });
    expect(ask(131072, 0)).toMatchObject({ ok: true });
  });

  it('checks CRC-16/IBM against its standard check value', () => {
    expect(crc16Ibm(bytes('123456789'))).toBe(0xbb3d);
    expect(crc16Ibm(new Uint8Array())).toBe(0);
  });

  it('lays the reply out as big-endian header length, JSON header, bytes, little-endian CRC', () => {
    const request = messagesOf(
      aliyunCodec.decode(topic, bytes(LINKSDK_FILE_DOWNLOAD)),
    )[0] as FileBlockRequest;
    const block = bytes('123456789');
    const reply = encodeFileBlockReply(device, request, { bytes: block, fileLength: 20000 });
    expect(reply.topic).toBe('/sys/a1pk/dev-1/thing/file/download_reply');
    const out = payloadBytes(reply);
    const headerLength = (out[0] as number) * 256 + (out[1] as number);
    const header = new TextDecoder().decode(out.subarray(2, 2 + headerLength));
    expect(header).toBe(
      '{"code":200,"data":{"bSize":9,"bOffset":10240,"fileLength":20000,"fileToken":"default"}}',
    );
    expect(out.subarray(2 + headerLength, 2 + headerLength + 9)).toEqual(block);
    expect([...out.subarray(out.length - 2)]).toEqual([0x3d, 0xbb]);
    expect(out.length).toBe(2 + headerLength + 9 + 2);
  });

  it('round-trips request and reply between the device and the server', () => {
    fc.assert(
      fc.property(
        anyDevice,
        fc.record({
          streamId: fc.nat(),
          fileId: fc.nat(),
          size: fc.integer({ min: 1, max: 4096 }),
          offset: fc.nat(),
        }),
        fc.uint8Array({ maxLength: 4096 }),
        (who, ask, block) => {
          const sent = encodeFileBlockRequest(who, { ...ask, requestId: 'r1' });
          const [request] = messagesOf(aliyunCodec.decode(sent.topic, payloadBytes(sent)));
          expect(request).toEqual({
            kind: 'file_block_request',
            requestId: 'r1',
            fileToken: 'default',
            ...ask,
          });
          const reply = encodeFileBlockReply(who, request as FileBlockRequest, {
            bytes: block,
            fileLength: 1 << 20,
          });
          expect(decodeFileBlockReply(payloadBytes(reply))).toEqual({
            ok: true,
            code: 200,
            size: block.length,
            offset: ask.offset,
            fileLength: 1 << 20,
            fileToken: 'default',
            bytes: block,
          });
        },
      ),
    );
  });

  it('refuses a reply whose CRC or length does not match, as LinkSDK would', () => {
    const request = messagesOf(
      aliyunCodec.decode(topic, bytes(LINKSDK_FILE_DOWNLOAD)),
    )[0] as FileBlockRequest;
    const good = payloadBytes(
      encodeFileBlockReply(device, request, { bytes: bytes('abcdef'), fileLength: 6 }),
    );
    const flipped = good.slice();
    flipped[flipped.length - 4] = (flipped[flipped.length - 4] as number) ^ 1;
    expect(decodeFileBlockReply(flipped)).toMatchObject({ ok: false, reason: 'block CRC mismatch' });
    expect(decodeFileBlockReply(good.subarray(0, good.length - 1))).toMatchObject({ ok: false });
  });

  it('never throws on random reply bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (junk) => {
        expect(typeof decodeFileBlockReply(junk).ok).toBe('boolean');
      }),
    );
  });
});
