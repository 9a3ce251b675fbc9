import type { DecodeError } from './codec.js';
import { MAX_PAYLOAD_BYTES } from './codec.js';

/** A parsed JSON value. */
export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
/** A parsed JSON object. */
export interface JsonObject {
  [key: string]: JsonValue;
}

export type JsonParseResult = { ok: true; value: JsonValue } | DecodeError;

/** Builds the typed error every decoder returns instead of throwing. */
export function decodeError(code: DecodeError['code'], reason: string): DecodeError {
  return { ok: false, code, reason };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Device payload bytes to a JSON value. Total: oversized input, invalid UTF-8 and bad JSON come back as a
 * `DecodeError`. Tolerates what real device SDKs send: a UTF-8 BOM, trailing NULs and whitespace, and
 * trailing commas (LinkSDK `aiot_mqtt_download_api.c` writes `"fileId":%s,}`).
 */
export function parseJsonPayload(payload: Uint8Array): JsonParseResult {
  if (!(payload instanceof Uint8Array)) return decodeError('invalid_payload', 'payload is not bytes');
  if (payload.byteLength > MAX_PAYLOAD_BYTES) {
    return decodeError('too_large', `payload of ${payload.byteLength} bytes exceeds ${MAX_PAYLOAD_BYTES}`);
  }
  let text: string;
  try {
    text = utf8.decode(payload);
  } catch {
    return decodeError('malformed_json', 'payload is not UTF-8');
  }
  return parseJsonText(text);
}

/** Text to a JSON value, with the same tolerance as `parseJsonPayload`. Total. */
export function parseJsonText(text: string): JsonParseResult {
  const trimmed = trimEnd(text.startsWith('\uFEFF') ? text.slice(1) : text);
  let value: JsonValue | undefined;
  try {
    value = JSON.parse(trimmed) as JsonValue;
  } catch {
    // Only worth a second attempt when a comma could be the culprit.
  }
  if (value === undefined && trimmed.includes(',')) {
    try {
      value = JSON.parse(withoutTrailingCommas(trimmed)) as JsonValue;
    } catch {
      // fall through to the error below
    }
  }
  if (value === undefined) return decodeError('malformed_json', 'payload is not valid JSON');
  // Only a `\u` escape can put a NUL or a lone surrogate into parsed text: raw control characters are not JSON, and
  // UTF-8 decoding never yields a lone surrogate. Such text cannot be stored (PostgreSQL refuses both), and one
  // message that fails its ingest batch would take every other device's messages in the batch with it.
  if (trimmed.includes('\\u') && !storable(value)) {
    return decodeError(
      'invalid_payload',
      'payload has text with a NUL character or an unpaired surrogate (\\u escape), which cannot be stored',
    );
  }
  return { ok: true, value };
}

/** Whether every string (and key) in a parsed value is free of NULs and unpaired UTF-16 surrogates. */
function storable(value: JsonValue): boolean {
  if (typeof value === 'string') return !UNSTORABLE.test(value);
  if (Array.isArray(value)) return value.every(storable);
  if (value !== null && typeof value === 'object')
    return Object.entries(value).every(([key, item]) => !UNSTORABLE.test(key) && storable(item));
  return true;
}

/** A NUL, a high surrogate not followed by a low one, or a low surrogate not preceded by a high one. */
const UNSTORABLE = /\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Drops trailing whitespace and the NUL terminators some C SDKs publish with the text. */
function trimEnd(text: string): string {
  let end = text.length;
  while (end > 0 && (text.charCodeAt(end - 1) === 0 || /\s/.test(text[end - 1] as string))) end--;
  return text.slice(0, end);
}

/**
 * Drops every comma (outside strings) that follows a value and is followed, after whitespace, by `}` or `]`.
 * Linear: one pass, one lookahead per comma over the whitespace after it.
 */
function withoutTrailingCommas(text: string): string {
  let out = '';
  let inString = false;
  let escaped = false;
  // Last significant character written outside strings ('"' after a string value).
  let last = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (inString) {
      out += ch;
      if (escaped) escaped = false;
      else if (ch === '\\') escaped = true;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') inString = true;
    if (ch === ',' && last !== '' && !'{[,:'.includes(last)) {
      let j = i + 1;
      while (j < text.length && /\s/.test(text[j] as string)) j++;
      const next = text[j];
      if (next === '}' || next === ']') continue;
    }
    out += ch;
    if (!/\s/.test(ch)) last = ch;
  }
  return out;
}

/** A JSON object (not null, not an array). */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An own member of an object; never reaches the prototype (`__proto__`, `constructor`). */
export function member(obj: JsonObject, key: string): JsonValue | undefined {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

/** An own member that is an object. */
export function memberObject(obj: JsonObject, key: string): JsonObject | undefined {
  const value = member(obj, key);
  return isJsonObject(value) ? value : undefined;
}

/** A string, nothing else. */
export function readString(value: JsonValue | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** A string, or a finite number written as text (`"version": 1.1` from a hand-rolled device). */
export function readText(value: JsonValue | undefined): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

const NUMERIC_TEXT = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** A finite number, or a string holding one (`"step":"-3"`, `"percent":"10"`). */
export function readNumber(value: JsonValue | undefined): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (!NUMERIC_TEXT.test(text)) return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

/** A safe integer, given as a number or a string (`"file_size":"708482"`). */
export function readInteger(value: JsonValue | undefined): number | undefined {
  const n = readNumber(value);
  return n !== undefined && Number.isSafeInteger(n) ? n : undefined;
}

/** A message id: Aliyun SDK v3 sends 0, LinkSDK a number, the doc a string. Accept both. */
export function readId(value: JsonValue | undefined): string | number | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  return undefined;
}
