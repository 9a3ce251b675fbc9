import type { DialectCodec } from '../codec.js';
import type { Dialect } from '../vocabulary.js';
import { aliyunCodec } from './aliyun.js';
import { iothubCodec } from './iothub.js';
import { tencentCodec } from './tencent.js';

export { aliyunCodec } from './aliyun.js';
export type { DecodedFileBlock, FileBlock } from './aliyun-file-block.js';
export {
  decodeFileBlockReply,
  encodeFileBlockReply,
  encodeFileBlockRequest,
  MAX_FILE_BLOCK_SIZE,
} from './aliyun-file-block.js';
export { MAX_EXT_DATA_KEYS } from './aliyun-task.js';
export { iothubCodec } from './iothub.js';
export { IOTHUB_COMMAND } from './iothub-topics.js';
export { tencentCodec } from './tencent.js';
export { TENCENT_RESULT_CODES } from './tencent-decode.js';

const CODECS: Readonly<Record<Dialect, DialectCodec>> = {
  aliyun: aliyunCodec,
  tencent: tencentCodec,
  iothub: iothubCodec,
};

/** The codec of one dialect. */
export function codecFor(dialect: Dialect): DialectCodec {
  return CODECS[dialect];
}
