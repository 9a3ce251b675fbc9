import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BlobStore } from '../blob-store.js';

/** What a conformance run needs from one blob store implementation. */
export interface BlobStoreHarness {
  store: BlobStore;
  /**
   * Everything the store holds in its backing medium, temp/partial uploads included (file paths,
   * object names...). Used to prove that failed uploads leave nothing behind.
   */
  residue(): Promise<string[]>;
  /** Removes the backing medium (temp directory, bucket prefix). */
  cleanup(): Promise<void>;
}

/**
 * The behaviour every `BlobStore` must have. Call it from the implementation's test file:
 * `describeBlobStore('FilesystemBlobStore', async () => ({ store, residue, cleanup }))`.
 */
export function describeBlobStore(name: string, factory: () => Promise<BlobStoreHarness>): void {
  describe(`BlobStore conformance: ${name}`, () => {
    let harness: BlobStoreHarness;
    let store: BlobStore;

    beforeEach(async () => {
      harness = await factory();
      store = harness.store;
    });
    afterEach(async () => {
      await harness.cleanup();
    });

    it('stores a stream and reports its size, md5 and sha256 in lowercase hex', async () => {
      const bytes = randomBytes(300_000);
      const blob = await store.put(chunked(bytes, 7_001));
      expect(blob).toEqual({
        key: expect.any(String),
        size: bytes.length,
        md5: md5(bytes),
        sha256: sha256(bytes),
      });
      expect(await store.stat(blob.key)).toEqual({ size: bytes.length });
      expectSameBytes(await readAll(store.openRead(blob.key)), bytes);
    });

    it('stores an empty file', async () => {
      const blob = await store.put(Readable.from([]));
      expect(blob.size).toBe(0);
      expect(blob.sha256).toBe(sha256(Buffer.alloc(0)));
      expectSameBytes(await readAll(store.openRead(blob.key)), Buffer.alloc(0));
    });

    it('reads inclusive byte ranges, including the first and the last byte', async () => {
      const bytes = randomBytes(100_000);
      const { key } = await store.put(chunked(bytes, 4096));
      const ranges: Array<[number, number]> = [
        [0, 0],
        [0, 99_999],
        [99_999, 99_999],
        [1, 65_537],
        [12_345, 54_321],
      ];
      for (const [start, end] of ranges) {
        expectSameBytes(await readAll(store.openRead(key, { start, end })), bytes.subarray(start, end + 1));
      }
    });

    it('rejects a malformed range synchronously', async () => {
      const { key } = await store.put(Readable.from([Buffer.from('abc')]));
      expect(() => store.openRead(key, { start: 2, end: 1 })).toThrow(
        expect.objectContaining({ code: 'ALOFT_BLOB_RANGE_INVALID' }),
      );
      expect(() => store.openRead(key, { start: -1, end: 1 })).toThrow(
        expect.objectContaining({ code: 'ALOFT_BLOB_RANGE_INVALID' }),
      );
    });

    it('accepts expected digests in any letter case', async () => {
      const bytes = randomBytes(10_000);
      const blob = await store.put(Readable.from([bytes]), {
        md5: md5(bytes).toUpperCase(),
        sha256: sha256(bytes).toUpperCase(),
        maxBytes: bytes.length,
      });
      expect(blob.sha256).toBe(sha256(bytes));
    });

    it('deletes a blob, and deleting it again is not an error', async () => {
      const { key } = await store.put(Readable.from([Buffer.from('firmware')]));
      await store.delete(key);
      expect(await store.stat(key)).toBeUndefined();
      await store.delete(key);
      expect(await harness.residue()).toEqual([]);
    });

    it('reports a missing blob as undefined from stat and as ALOFT_BLOB_NOT_FOUND from openRead', async () => {
      const { key } = await store.put(Readable.from([Buffer.from('firmware')]));
      await store.delete(key);
      expect(await store.stat(key)).toBeUndefined();
      await expect(readAll(store.openRead(key))).rejects.toMatchObject({ code: 'ALOFT_BLOB_NOT_FOUND' });
    });

    it('refuses keys that could reach outside the store', async () => {
      for (const key of ['../etc/passwd', '/etc/passwd', '', '..', 'a/b']) {
        await expect(store.stat(key)).rejects.toMatchObject({ code: 'ALOFT_BLOB_KEY_INVALID' });
        await expect(store.delete(key)).rejects.toMatchObject({ code: 'ALOFT_BLOB_KEY_INVALID' });
        expect(() => store.openRead(key)).toThrow(
          expect.objectContaining({ code: 'ALOFT_BLOB_KEY_INVALID' }),
        );
      }
    });

    it('rejects a sha256 mismatch and leaves nothing behind', async () => {
      const bytes = randomBytes(50_000);
      await expect(
        store.put(chunked(bytes, 1000), { sha256: sha256(Buffer.from('something else')) }),
      ).rejects.toMatchObject({ code: 'ALOFT_FIRMWARE_DIGEST_MISMATCH', algorithm: 'sha256' });
      expect(await harness.residue()).toEqual([]);
    });

    it('rejects an md5 mismatch and leaves nothing behind', async () => {
      const bytes = randomBytes(50_000);
      await expect(store.put(chunked(bytes, 1000), { md5: '0'.repeat(32) })).rejects.toMatchObject({
        code: 'ALOFT_FIRMWARE_DIGEST_MISMATCH',
        algorithm: 'md5',
      });
      expect(await harness.residue()).toEqual([]);
    });

    it('stops reading at maxBytes and leaves nothing behind', async () => {
      let produced = 0;
      // An endless source: the store must give up at the limit rather than read to the end.
      const endless = new Readable({
        read() {
          produced += 1024;
          this.push(Buffer.alloc(1024, 1));
        },
      });
      await expect(store.put(endless, { maxBytes: 10_000 })).rejects.toMatchObject({
        code: 'ALOFT_FIRMWARE_TOO_LARGE',
        maxBytes: 10_000,
      });
      expect(produced).toBeLessThan(1_000_000);
      expect(await harness.residue()).toEqual([]);
    });

    it('accepts a file of exactly maxBytes', async () => {
      const bytes = randomBytes(10_000);
      const blob = await store.put(chunked(bytes, 999), { maxBytes: 10_000 });
      expect(blob.size).toBe(10_000);
    });

    it('rejects a source stream that fails midway and leaves nothing behind', async () => {
      const failing = new Readable({ read() {} });
      failing.push(randomBytes(20_000));
      setTimeout(() => failing.destroy(new Error('connection reset by uploader')), 5);
      await expect(store.put(failing)).rejects.toMatchObject({ code: 'ALOFT_FIRMWARE_UPLOAD_INCOMPLETE' });
      expect(await harness.residue()).toEqual([]);
    });

    it('rejects a source stream that is destroyed without an error and leaves nothing behind', async () => {
      const cut = new Readable({ read() {} });
      cut.push(randomBytes(20_000));
      setTimeout(() => cut.destroy(), 5);
      await expect(store.put(cut)).rejects.toMatchObject({ code: 'ALOFT_FIRMWARE_UPLOAD_INCOMPLETE' });
      expect(await harness.residue()).toEqual([]);
    });

    it('keeps concurrent uploads apart', async () => {
      const files = Array.from({ length: 8 }, (_, i) => randomBytes(20_000 + i * 3_001));
      const blobs = await Promise.all(files.map((bytes) => store.put(chunked(bytes, 1_500))));
      expect(new Set(blobs.map((b) => b.key)).size).toBe(files.length);
      for (const [i, blob] of blobs.entries()) {
        const bytes = files[i]!;
        expect(blob.sha256).toBe(sha256(bytes));
        expectSameBytes(await readAll(store.openRead(blob.key)), bytes);
      }
    });

    it('stores identical bytes twice under independent keys', async () => {
      const bytes = Buffer.from('same firmware');
      const first = await store.put(Readable.from([bytes]));
      const second = await store.put(Readable.from([bytes]));
      expect(first.key).not.toBe(second.key);
      await store.delete(first.key);
      expectSameBytes(await readAll(store.openRead(second.key)), bytes);
    });
  });
}

/** A stream delivering `bytes` in slices of `size`, asynchronously, like a network upload. */
function chunked(bytes: Buffer, size: number): Readable {
  return Readable.from(
    (async function* () {
      for (let offset = 0; offset < bytes.length; offset += size) {
        yield bytes.subarray(offset, offset + size);
        await Promise.resolve();
      }
    })(),
  );
}

/** Compares by length and digest: a deep equality diff of two large buffers takes seconds. */
function expectSameBytes(actual: Buffer, expected: Buffer): void {
  expect({ size: actual.length, sha256: sha256(actual) }).toEqual({
    size: expected.length,
    sha256: sha256(expected),
  });
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function md5(bytes: Buffer): string {
  return createHash('md5').update(bytes).digest('hex');
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}
