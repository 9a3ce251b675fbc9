import { describe, expect, it } from 'vitest';
import * as protocol from './index.js';

describe('the public API', () => {
  it('exports the codecs, the block codec, the credentials and the vocabulary constants', () => {
    for (const name of [
      'aliyunCodec',
      'tencentCodec',
      'iothubCodec',
      'codecFor',
      'encodeFileBlockReply',
      'decodeFileBlockReply',
      'encodeFileBlockRequest',
      'deviceCredentials',
      'parseCredentials',
      'crc16Ibm',
      'DIALECTS',
      'DEFAULT_MODULE',
      'MAX_PAYLOAD_BYTES',
    ]) {
      expect(protocol).toHaveProperty(name);
    }
  });
});
