import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Firmware, FirmwareUploadFields } from '../api/index.js';
import { CliError } from '../cli-io.js';
import { TransferProgress } from '../output/transfer-progress.js';
import type { Session } from './api-command.js';

/** Big reads keep the per-chunk overhead (hashing, progress) negligible; memory stays at a few MiB. */
const READ_CHUNK = 1024 * 1024;

/**
 * Streams a file to the server as a multipart upload with a progress line, hashing it on the way, then checks the
 * server stored the same bytes (its md5/sha256 against ours). The file is never read whole into memory.
 */
export async function uploadFirmware(
  session: Session<unknown>,
  path: string,
  productKey: string,
  fields: FirmwareUploadFields,
): Promise<Firmware> {
  const size = await fileSize(path);
  // Fail in a round trip, not after sending a large file, when the product does not exist.
  await session.api.products.get(productKey);

  const fileName = basename(path);
  const md5 = createHash('md5');
  const sha256 = createHash('sha256');
  const progress = new TransferProgress(session.io.stderr, `uploading ${fileName}`, size);
  async function* content(): AsyncGenerator<Uint8Array> {
    for await (const chunk of createReadStream(path, { highWaterMark: READ_CHUNK })) {
      const bytes = chunk as Buffer;
      md5.update(bytes);
      sha256.update(bytes);
      progress.add(bytes.byteLength);
      yield bytes;
    }
  }

  let firmware: Firmware;
  try {
    firmware = await session.api.firmware.upload(productKey, fields, { fileName, size, content: content() });
  } catch (error) {
    progress.abort();
    throw error;
  }
  progress.finish();

  const sent = { md5: md5.digest('hex'), sha256: sha256.digest('hex') };
  for (const digest of ['md5', 'sha256'] as const) {
    const stored = firmware[digest];
    if (firmware.size !== size || (stored !== null && stored.toLowerCase() !== sent[digest])) {
      throw new CliError(
        `the server stored different bytes than were sent (${digest} sent ${sent[digest]}, stored ${stored}; ` +
          `size sent ${size}, stored ${firmware.size}): delete firmware ${firmware.id} and upload again`,
      );
    }
  }
  return firmware;
}

async function fileSize(path: string): Promise<number> {
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new CliError(`${path} is not a file`);
    return info.size;
  } catch (error) {
    if (error instanceof CliError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new CliError(
      `cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`,
    );
  }
}
