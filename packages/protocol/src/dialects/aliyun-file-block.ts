/**
 * Aliyun MQTT block download (optional feature), as LinkSDK `components/ota/aiot_mqtt_download_api.c` speaks it.
 *
 * Request, device → server on `/sys/${pk}/${dn}/thing/file/download`:
 * `{"id":"N","version":"1.0","params":{"fileToken":"default","fileInfo":{"streamId":S,"fileId":F,},"fileBlock":{"size":5120,"offset":O}}}`
 * (the trailing comma inside `fileInfo` is LinkSDK's own `params_fmt`; the JSON reader tolerates it).
 *
 * Reply, server → device on `.../thing/file/download_reply`, binary:
 * 2-byte big-endian header length, JSON header
 * `{"code":200,"data":{"bSize":..,"bOffset":..,"fileLength":..,"fileToken":..}}`, the block bytes, then the
 * CRC-16/IBM of the bytes, little-endian (LinkSDK reads it as a native `uint16_t` on little-endian MCUs).
 */
import type { DecodeError } from '../codec.js';
import { MAX_PAYLOAD_BYTES } from '../codec.js';
import { crc16Ibm } from '../crc16-ibm.js';
import type { JsonObject } from '../json-reader.js';
import {
  decodeError,
  isJsonObject,
  member,
  memberObject,
  parseJsonText,
  readId,
  readInteger,
  readString,
} from '../json-reader.js';
import { nextMessageId } from '../message-id.js';
import type { DeviceRef, FileBlockRequest, OutboundMessage } from '../vocabulary.js';
import { aliyunTopic } from './aliyun-topics.js';

/** Largest block a device may ask for. Aliyun documents 256 B..128 KiB per block; LinkSDK asks 5 KiB. */
export const MAX_FILE_BLOCK_SIZE = 128 * 1024;

/** The block request inside a decoded `/thing/file/download` body, or the reason it is unusable. */
export function readFileBlockRequest(body: JsonObject): FileBlockRequest[] | string {
  const params = memberObject(body, 'params');
  const fileInfo = params && memberObject(params, 'fileInfo');
  const fileBlock = params && memberObject(params, 'fileBlock');
  if (!params || !fileInfo || !fileBlock) return 'params.fileInfo/fileBlock is missing';
  const streamId = readInteger(member(fileInfo, 'streamId'));
  const fileId = readInteger(member(fileInfo, 'fileId'));
  const size = readInteger(member(fileBlock, 'size'));
  const offset = readInteger(member(fileBlock, 'offset'));
  if (streamId === undefined || streamId < 0 || fileId === undefined || fileId < 0) {
    return 'fileInfo.streamId/fileId is invalid';
  }
  if (size === undefined || size < 1 || size > MAX_FILE_BLOCK_SIZE) return 'fileBlock.size is invalid';
  if (offset === undefined || offset < 0) return 'fileBlock.offset is invalid';
  const request: FileBlockRequest = {
    kind: 'file_block_request',
    requestId: readId(member(body, 'id')) ?? 0,
    streamId,
    fileId,
    size,
    offset,
  };
  const fileToken = readString(member(params, 'fileToken'));
  if (fileToken !== undefined) request.fileToken = fileToken;
  return [request];
}

/** One block to send: the bytes at `request.offset` and the whole file's length. */
export interface FileBlock {
  bytes: Uint8Array;
  fileLength: number;
}

/**
 * Server → device binary reply carrying one block. `bOffset` echoes the request's offset: LinkSDK drops a
 * block whose offset is not the one it asked for, and resends a request whose CRC does not match.
 */
export function encodeFileBlockReply(
  device: DeviceRef,
  request: FileBlockRequest,
  block: FileBlock,
): OutboundMessage {
  const data: JsonObject = {
    bSize: block.bytes.byteLength,
    bOffset: request.offset,
    fileLength: block.fileLength,
  };
  if (request.fileToken !== undefined) data.fileToken = request.fileToken;
  const header = new TextEncoder().encode(JSON.stringify({ code: 200, data }));
  if (header.byteLength > 0xffff) throw new RangeError('file block header longer than 65535 bytes');
  const out = new Uint8Array(2 + header.byteLength + block.bytes.byteLength + 2);
  const view = new DataView(out.buffer);
  view.setUint16(0, header.byteLength, false);
  out.set(header, 2);
  out.set(block.bytes, 2 + header.byteLength);
  view.setUint16(out.byteLength - 2, crc16Ibm(block.bytes), true);
  return { topic: aliyunTopic.fileDownloadReply(device), payload: out, qos: 0 };
}

/** Device side: ask for one block, as LinkSDK `_md_send_request` does (but as strict JSON). */
export function encodeFileBlockRequest(
  device: DeviceRef,
  request: Omit<FileBlockRequest, 'kind' | 'requestId'> & { requestId?: string | number },
): OutboundMessage {
  const body = {
    id: request.requestId ?? String(nextMessageId()),
    version: '1.0',
    params: {
      fileToken: request.fileToken ?? 'default',
      fileInfo: { streamId: request.streamId, fileId: request.fileId },
      fileBlock: { size: request.size, offset: request.offset },
    },
  };
  return { topic: aliyunTopic.fileDownload(device), payload: JSON.stringify(body), qos: 0 };
}

/** A block reply as the device reads it. */
export interface DecodedFileBlock {
  ok: true;
  code: number;
  size: number;
  offset: number;
  fileLength: number;
  fileToken?: string;
  bytes: Uint8Array;
}

/**
 * Device side: the binary reply to a block request, checked like LinkSDK `_md_recv_data_reply_handler` does:
 * code 200, total length = 2 + header + bSize + 2, CRC-16/IBM of the bytes. Total: never throws.
 */
export function decodeFileBlockReply(payload: Uint8Array): DecodedFileBlock | DecodeError {
  if (!(payload instanceof Uint8Array)) return decodeError('invalid_payload', 'payload is not bytes');
  if (payload.byteLength > MAX_PAYLOAD_BYTES + MAX_FILE_BLOCK_SIZE) {
    return decodeError('too_large', 'block reply too large');
  }
  if (payload.byteLength < 4) return decodeError('invalid_payload', 'block reply shorter than 4 bytes');
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const headerLength = view.getUint16(0, false);
  if (2 + headerLength + 2 > payload.byteLength)
    return decodeError('invalid_payload', 'header length overruns');
  let headerText: string;
  try {
    headerText = new TextDecoder('utf-8', { fatal: true }).decode(payload.subarray(2, 2 + headerLength));
  } catch {
    return decodeError('malformed_json', 'block header is not UTF-8');
  }
  const header = parseJsonText(headerText);
  if (!header.ok) return header;
  const data = isJsonObject(header.value) ? memberObject(header.value, 'data') : undefined;
  const code = isJsonObject(header.value) ? readInteger(member(header.value, 'code')) : undefined;
  if (!data || code === undefined) return decodeError('invalid_payload', 'block header lacks code/data');
  if (code !== 200) return decodeError('invalid_payload', `block reply code ${code}`);
  const size = readInteger(member(data, 'bSize'));
  const offset = readInteger(member(data, 'bOffset'));
  const fileLength = readInteger(member(data, 'fileLength'));
  if (size === undefined || size < 0 || offset === undefined || offset < 0 || fileLength === undefined) {
    return decodeError('invalid_payload', 'block header lacks bSize/bOffset/fileLength');
  }
  if (payload.byteLength !== 2 + headerLength + size + 2) {
    return decodeError('invalid_payload', 'block length does not match bSize');
  }
  const bytes = payload.slice(2 + headerLength, 2 + headerLength + size);
  if (view.getUint16(payload.byteLength - 2, true) !== crc16Ibm(bytes)) {
    return decodeError('invalid_payload', 'block CRC mismatch');
  }
  const block: DecodedFileBlock = { ok: true, code, size, offset, fileLength, bytes };
  const fileToken = readString(member(data, 'fileToken'));
  if (fileToken !== undefined) block.fileToken = fileToken;
  return block;
}
