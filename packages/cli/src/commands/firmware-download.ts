import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { access, rename, rm } from 'node:fs/promises';
import { basename } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { OutputSink } from '../cli-io.js';
import { CliError } from '../cli-io.js';
import { TransferProgress } from '../output/transfer-progress.js';
import type { Session } from './api-command.js';

/** What a download produced. */
export interface SavedFirmware {
  /** The file written, or `-` for stdout. */
  path: string;
  size: number;
  sha256: string;
}

/**
 * Streams a package to a file (through `<file>.part`, renamed once complete and checked, so an interrupted
 * download never leaves a file that looks whole) or to stdout, and checks size and sha256 against the server's.
 */
export async function downloadFirmware(
  session: Session<unknown>,
  firmwareId: number,
  output: string | undefined,
  force = false,
): Promise<SavedFirmware> {
  const meta = await session.api.firmware.get(firmwareId);
  const target = output ?? basename(meta.fileName);
  if (target !== '-' && !force && (await exists(target))) {
    throw new CliError(`${target} already exists (use --force to overwrite, or -o to pick another name)`);
  }
  const download = await session.api.firmware.download(firmwareId);
  const progress = new TransferProgress(
    session.io.stderr,
    `downloading ${meta.fileName}`,
    download.size ?? meta.size,
  );
  const sha256 = createHash('sha256');
  let size = 0;
  async function* counted(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    for await (const chunk of source) {
      sha256.update(chunk);
      size += chunk.byteLength;
      progress.add(chunk.byteLength);
      yield chunk;
    }
  }

  const partial = `${target}.part`;
  try {
    if (target === '-') await writeAll(session.io.stdout, counted(download.body));
    else await pipeline(download.body, counted, createWriteStream(partial));
  } catch (error) {
    progress.abort();
    if (target !== '-') await rm(partial, { force: true });
    throw new CliError(`download of firmware ${firmwareId} failed: ${(error as Error).message}`);
  }
  progress.finish();

  const digest = sha256.digest('hex');
  if (size !== meta.size || (meta.sha256 !== null && meta.sha256.toLowerCase() !== digest)) {
    if (target !== '-') await rm(partial, { force: true });
    throw new CliError(
      `downloaded file does not match firmware ${firmwareId} (size ${size}, expected ${meta.size}; sha256 ${digest}, expected ${meta.sha256})`,
    );
  }
  if (target !== '-') await rename(partial, target);
  return { path: target, size, sha256: digest };
}

/** Writes to a sink that may be a real stream (respecting backpressure) or a test buffer. */
async function writeAll(sink: OutputSink, chunks: AsyncIterable<Uint8Array>): Promise<void> {
  for await (const chunk of chunks) {
    if (sink.write(chunk) === false && sink.once) {
      await new Promise<void>((resolve) => sink.once?.('drain', resolve));
    }
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
