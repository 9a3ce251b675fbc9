import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BatchedWriter, WRITE_BATCH_BYTES } from './batched-writer.js';
import { firmwareImage, useTempDataDir } from './testing/fixtures.js';

let dir: string;
useTempDataDir((created) => {
  dir = created;
});

const image = firmwareImage(WRITE_BATCH_BYTES * 2 + 12_345);

/** Writes the image in 10,000-byte chunks through `writer`, scribbling over each chunk once it was taken. */
async function writeImage(writer: BatchedWriter): Promise<void> {
  for (let at = 0; at < image.bytes.length; at += 10_000) {
    const chunk = image.bytes.slice(at, Math.min(image.bytes.length, at + 10_000));
    await writer.write(chunk);
    chunk.fill(0xee); // the caller may reuse its memory
  }
  await writer.flush();
}

describe('BatchedWriter', () => {
  it('writes exactly the bytes it was given, in batches, copying each chunk', async () => {
    const path = join(dir, 'file');
    const handle = await open(path, 'w');
    const writer = new BatchedWriter(handle, 0);
    await writer.write(image.bytes.slice(0, 1000));
    expect([writer.end, (await handle.stat()).size]).toEqual([1000, 0]); // gathered, not written yet
    writer.restartAt(0);
    await writeImage(writer);
    writer.release();
    await handle.close();
    expect((await readFile(path)).equals(image.bytes)).toBe(true);
  });

  it('carries on after a short write', async () => {
    const written: Buffer[] = [];
    const stingy = {
      async write(bytes: Uint8Array, offset: number, length: number, position: number) {
        const count = Math.min(length, 1000);
        written.push(Buffer.from(bytes.subarray(offset, offset + count)));
        expect(position).toBe(written.reduce((sum, b) => sum + b.length, 0) - count);
        return { bytesWritten: count, buffer: bytes };
      },
    };
    const writer = new BatchedWriter(stingy as never, 0);
    await writeImage(writer);
    writer.release();
    expect(Buffer.concat(written).equals(image.bytes)).toBe(true);
  });

  it('writes straight through once every batch buffer is lent out, and reuses given-back ones', async () => {
    const handles = await Promise.all(
      Array.from({ length: 65 }, (_, i) => open(join(dir, `file-${i}`), 'w')),
    );
    const writers = handles.map((handle) => new BatchedWriter(handle, 0));
    const last = writers.at(-1) as BatchedWriter;
    await last.write(image.bytes.subarray(0, 1000));
    expect((await handles[64]?.stat())?.size).toBe(1000); // no buffer left: written at once

    writers[0]?.release();
    const reused = new BatchedWriter(handles[0] as never, 0);
    await reused.write(image.bytes.subarray(0, 1000));
    expect((await handles[0]?.stat())?.size).toBe(0); // gathered in the buffer given back
    for (const writer of [...writers, reused]) writer.release();
    await Promise.all(handles.map((handle) => handle.close()));
  });
});
