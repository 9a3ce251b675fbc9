import type { JsonValue } from './json-reader.js';
import { readNumber, readText } from './json-reader.js';

/** Longest version or module name accepted from a device. */
export const MAX_NAME_LENGTH = 64;
/** Device messages (`desc`, `result_msg`) longer than this are cut: they are kept for operators, not parsed. */
export const MAX_MESSAGE_LENGTH = 512;

/** A version or module name: non-empty, at most 64 characters, no control characters. */
export function isWireName(value: string): boolean {
  return value.length > 0 && value.length <= MAX_NAME_LENGTH && !hasControlChar(value);
}

/** C0 controls, DEL and C1 controls. */
export function hasControlChar(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code <= 0x1f || (code >= 0x7f && code <= 0x9f)) return true;
  }
  return false;
}

/** A version (or module name) from the wire, or undefined when absent or invalid. */
export function readWireName(value: JsonValue | undefined): string | undefined {
  const text = readText(value);
  return text !== undefined && isWireName(text) ? text : undefined;
}

/**
 * A progress percent: an integer 0..100. Fractions are truncated and values above 100 clamped;
 * NaN, infinities, negatives and non-numbers are refused (negatives are error codes in every dialect).
 */
export function readPercent(value: JsonValue | undefined): number | undefined {
  const n = readNumber(value);
  if (n === undefined || n < 0) return undefined;
  return Math.min(100, Math.trunc(n));
}

/** The device's free-text message, or undefined when empty; cut to `MAX_MESSAGE_LENGTH`. */
export function readMessage(value: JsonValue | undefined): string | undefined {
  const text = readText(value);
  if (text === undefined || text.length === 0) return undefined;
  return text.length > MAX_MESSAGE_LENGTH ? text.slice(0, MAX_MESSAGE_LENGTH) : text;
}
