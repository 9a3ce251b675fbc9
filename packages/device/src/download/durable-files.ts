import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Replaces `path` with `content` so that a crash (or power loss) leaves either the old or the new content:
 * write a temp file, fsync it, rename it over `path`, fsync the directory.
 */
export async function writeFileDurably(path: string, content: string): Promise<void> {
  const temp = `${path}.tmp`;
  const file = await open(temp, 'w');
  try {
    await file.writeFile(content);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(temp, path);
  await syncDirectory(dirname(path));
}

/**
 * Flushes a directory so a rename in it survives power loss (Linux). Best effort: Windows cannot open a
 * directory, and losing a rename only costs re-downloading the bytes since the previous checkpoint.
 */
export async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // best effort, see above
  }
}
