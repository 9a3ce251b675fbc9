import type { DecodeResult, ServerDecodeResult, ServerMessage } from '../codec.js';
import type { DeviceMessage, OutboundMessage } from '../vocabulary.js';

/** UTF-8 bytes of a payload text. */
export function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** An outbound payload as bytes, whatever form the encoder chose. */
export function payloadBytes(message: OutboundMessage): Uint8Array {
  return typeof message.payload === 'string' ? bytes(message.payload) : message.payload;
}

/** An outbound payload parsed as JSON. */
export function payloadJson(message: OutboundMessage): unknown {
  return JSON.parse(new TextDecoder().decode(payloadBytes(message)));
}

/** The messages of a successful decode; fails the test with the reason otherwise. */
export function messagesOf(result: DecodeResult): DeviceMessage[] {
  if (!result.ok) throw new Error(`expected a decode, got ${result.code}: ${result.reason}`);
  return result.messages;
}

/** The message of a successful server-side decode; fails the test with the reason otherwise. */
export function serverMessageOf(result: ServerDecodeResult): ServerMessage {
  if (!result.ok) throw new Error(`expected a decode, got ${result.code}: ${result.reason}`);
  return result.message;
}
