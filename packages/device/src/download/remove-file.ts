import { unlink } from 'node:fs/promises';

/**
 * Deletes a file if it is there. One `unlink`, where `fs.rm({ force: true })` costs up to two `lstat`s more
 * (it validates the path, then walks it as a possible directory): this runs a few times per download.
 */
export async function removeFile(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
