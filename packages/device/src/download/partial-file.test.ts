import { readFile, stat } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { WRITE_BATCH_BYTES } from './batched-writer.js';
import { readCheckpoint } from './checkpoint.js';
import { packageFiles } from './package-files.js';
import { PartialFile } from './partial-file.js';
import { firmwareImage, taskFor, useTempDataDir } from './testing/fixtures.js';

let dir: string;
useTempDataDir((created) => {
  dir = created;
});

const image = firmwareImage(WRITE_BATCH_BYTES * 2 + 1000);
const task = taskFor(image, 'http://x/fw');
const never = { everyBytes: Number.MAX_SAFE_INTEGER, everyMs: Number.MAX_SAFE_INTEGER, now: () => 0 };
const files = () => packageFiles(dir, task);
const sizeOnDisk = async () => (await stat(files().part)).size;

/** Appends the image's bytes `from`..`to` in 10,000-byte chunks. */
async function appendRange(file: PartialFile, from: number, to: number): Promise<void> {
  for (let at = from; at < to; at += 10_000)
    await file.append(image.bytes.subarray(at, Math.min(to, at + 10_000)));
}

describe('PartialFile', () => {
  it('writes in batches, and a checkpoint covers every byte received, batched or not', async () => {
    const file = await PartialFile.open(files(), task, never, 0, false);
    await appendRange(file, 0, 30_000);
    expect(file.bytes).toBe(30_000);
    expect(await sizeOnDisk()).toBe(0); // still gathered in memory

    await appendRange(file, 30_000, WRITE_BATCH_BYTES + 5_000);
    expect(await sizeOnDisk()).toBeGreaterThanOrEqual(WRITE_BATCH_BYTES);

    await file.checkpoint(); // what a failure or an abort does
    await file.close();
    expect(await sizeOnDisk()).toBe(WRITE_BATCH_BYTES + 5_000);
    expect((await readCheckpoint(files().checkpoint))?.bytesWritten).toBe(WRITE_BATCH_BYTES + 5_000);
    expect(file.checkpointOnDisk).toBe(true);
  });

  it('continues a partial file at its offset, and flush() writes the rest', async () => {
    const first = await PartialFile.open(files(), task, never, 0, false);
    await appendRange(first, 0, 100_000);
    await first.checkpoint();
    await first.close();

    const second = await PartialFile.open(files(), task, never, 100_000, true);
    await appendRange(second, 100_000, image.bytes.length);
    await second.flush();
    await second.close();
    expect((await readFile(files().part)).equals(image.bytes)).toBe(true);
  });

  it('checkpoints by the policy while bytes arrive', async () => {
    const file = await PartialFile.open(files(), task, { ...never, everyBytes: 50_000 }, 0, false);
    await appendRange(file, 0, 120_000);
    expect((await readCheckpoint(files().checkpoint))?.bytesWritten).toBe(100_000);
    await file.close();
  });

  it('drops the batch on restart: the file starts over from byte 0', async () => {
    const file = await PartialFile.open(files(), task, never, 0, false);
    await appendRange(file, 0, 30_000);
    await file.restart();
    await appendRange(file, 0, 20_000);
    await file.flush();
    await file.close();
    expect((await readFile(files().part)).equals(image.bytes.subarray(0, 20_000))).toBe(true);
  });
});
