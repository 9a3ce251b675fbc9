let counter = 0;

/**
 * The next message id for a device-side message, 1..2^31-1 then wrapping, like LinkSDK's
 * `core_global_alink_id_next`. Servers never deduplicate on it, so uniqueness per process is enough.
 */
export function nextMessageId(): number {
  counter = counter >= 0x7fffffff ? 1 : counter + 1;
  return counter;
}

/**
 * A 24-hex-digit id shaped like the BSON ObjectId the IotHub course's device SDK puts in its topics
 * (`new ObjectId().toHexString()`): seconds, then a per-process counter. No randomness is needed: the server
 * only uses it to tell messages apart in logs.
 */
export function objectIdLike(nowMs: number = Date.now()): string {
  const seconds = Math.floor(nowMs / 1000) >>> 0;
  return seconds.toString(16).padStart(8, '0') + nextMessageId().toString(16).padStart(16, '0');
}

/** FNV-1a 32-bit hash: a stable number for ids that arrive as arbitrary text. */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}
