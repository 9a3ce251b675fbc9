import type { FileHandle } from 'node:fs/promises';

/** Bytes gathered in memory before they go to the file in one write. */
export const WRITE_BATCH_BYTES = 256 * 1024;
/** Batch buffers that may exist at once (16 MiB); downloads past that write each chunk as it comes. */
const MAX_BUFFERS = 64;

/**
 * Batch buffers of finished downloads, kept for the next ones: a fresh 256 KiB buffer per download would be
 * long-lived enough to reach V8's old generation, which only a full collection frees.
 */
const spare: Buffer[] = [];
let lent = 0;

function borrow(): Buffer | undefined {
  const buffer = spare.pop();
  if (buffer !== undefined || lent < MAX_BUFFERS) {
    lent++;
    return buffer ?? Buffer.allocUnsafeSlow(WRITE_BATCH_BYTES);
  }
  return undefined;
}

function giveBack(buffer: Buffer): void {
  lent--;
  spare.push(buffer);
}

/**
 * Writes a file front to back, gathering the chunks into one buffer of {@link WRITE_BATCH_BYTES} before each
 * write: a write per socket chunk (16–64 KiB) costs a thread-pool round trip each. Chunks are copied at once, so
 * the caller may reuse their memory, and a download holds no socket buffers (which, kept a while, would outlive
 * V8's young generation). When {@link MAX_BUFFERS} downloads hold a buffer (a simulator downloading for
 * thousands of devices at once), the others write each chunk straight through instead of using more memory.
 */
export class BatchedWriter {
  readonly #handle: FileHandle;
  #buffer: Buffer | undefined;
  #filled = 0;
  #position: number;

  /** Writes to `handle` from byte `position` on. */
  constructor(handle: FileHandle, position: number) {
    this.#handle = handle;
    this.#position = position;
    this.#buffer = borrow();
  }

  /** Where the next byte goes once everything is written. */
  get end(): number {
    return this.#position + this.#filled;
  }

  async write(chunk: Uint8Array): Promise<void> {
    const buffer = this.#buffer;
    if (buffer === undefined) {
      await this.#writeAt(chunk);
      return;
    }
    let offset = 0;
    while (offset < chunk.byteLength) {
      const count = Math.min(chunk.byteLength - offset, buffer.byteLength - this.#filled);
      buffer.set(chunk.subarray(offset, offset + count), this.#filled);
      this.#filled += count;
      offset += count;
      if (this.#filled === buffer.byteLength) await this.flush();
    }
  }

  /** Writes what is gathered. */
  async flush(): Promise<void> {
    if (this.#buffer === undefined || this.#filled === 0) return;
    const bytes = this.#buffer.subarray(0, this.#filled);
    this.#filled = 0;
    await this.#writeAt(bytes);
  }

  /** Forgets what is gathered; the next byte goes to `position`. */
  restartAt(position: number): void {
    this.#filled = 0;
    this.#position = position;
  }

  /** Gives the buffer back for another download; call once no write is pending, and write no more. */
  release(): void {
    if (this.#buffer !== undefined) giveBack(this.#buffer);
    this.#buffer = undefined;
    this.#filled = 0;
  }

  async #writeAt(bytes: Uint8Array): Promise<void> {
    let done = 0;
    while (done < bytes.byteLength) {
      // A short write is legal; a write that makes no progress would loop forever.
      const { bytesWritten } = await this.#handle.write(bytes, done, bytes.byteLength - done, this.#position);
      if (bytesWritten === 0) throw new Error('the write made no progress');
      done += bytesWritten;
      this.#position += bytesWritten;
    }
  }
}
