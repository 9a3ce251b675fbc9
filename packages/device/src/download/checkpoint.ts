import { readFile } from 'node:fs/promises';
import type { UpgradeTask } from '@aloft/protocol';
import { writeFileDurably } from './durable-files.js';
import { removeFile } from './remove-file.js';

/**
 * What a device remembers about a partial download (Tencent's C SDK keeps `{version, downloaded_size}` the
 * same way). `bytesWritten` bytes of the partial file were flushed to disk before this was written.
 */
export interface DownloadCheckpoint {
  module: string;
  version: string;
  /** The URL it came from; informational only, since the server re-signs URLs on every push. */
  url: string;
  size: number;
  md5?: string;
  sha256?: string;
  bytesWritten: number;
}

/**
 * Same package = same module, version, size and digests. The URL is deliberately not compared: every push
 * (re-sent after a reconnect) carries a freshly signed URL for the same bytes.
 */
export function isSamePackage(checkpoint: DownloadCheckpoint, task: UpgradeTask): boolean {
  return (
    checkpoint.module === task.module &&
    checkpoint.version === task.version &&
    checkpoint.size === task.size &&
    checkpoint.md5 === task.md5 &&
    checkpoint.sha256 === task.sha256
  );
}

export function checkpointFor(task: UpgradeTask, bytesWritten: number): DownloadCheckpoint {
  const checkpoint: DownloadCheckpoint = {
    module: task.module,
    version: task.version,
    url: task.url,
    size: task.size,
    bytesWritten,
  };
  if (task.md5 !== undefined) checkpoint.md5 = task.md5;
  if (task.sha256 !== undefined) checkpoint.sha256 = task.sha256;
  return checkpoint;
}

/** Reads a checkpoint; `undefined` when there is none or it is unreadable (then the partial is worthless). */
export async function readCheckpoint(path: string): Promise<DownloadCheckpoint | undefined> {
  const stored = await loadCheckpoint(path);
  return typeof stored === 'string' ? undefined : stored;
}

/**
 * Reads a checkpoint, telling a missing one (nothing to clean up: a fresh download truncates any leftover
 * partial file) from one that is there but unusable (unreadable, torn, not a checkpoint).
 */
export async function loadCheckpoint(path: string): Promise<DownloadCheckpoint | 'missing' | 'unusable'> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'unusable';
  }
  try {
    return parseCheckpoint(JSON.parse(text)) ?? 'unusable';
  } catch {
    return 'unusable';
  }
}

function parseCheckpoint(value: unknown): DownloadCheckpoint | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const optionalString = (x: unknown): x is string | undefined => x === undefined || typeof x === 'string';
  if (
    typeof v.module !== 'string' ||
    typeof v.version !== 'string' ||
    typeof v.url !== 'string' ||
    !isByteCount(v.size) ||
    !isByteCount(v.bytesWritten) ||
    !optionalString(v.md5) ||
    !optionalString(v.sha256)
  ) {
    return undefined;
  }
  const checkpoint: DownloadCheckpoint = {
    module: v.module,
    version: v.version,
    url: v.url,
    size: v.size,
    bytesWritten: v.bytesWritten,
  };
  if (v.md5 !== undefined) checkpoint.md5 = v.md5;
  if (v.sha256 !== undefined) checkpoint.sha256 = v.sha256;
  return checkpoint;
}

function isByteCount(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

/** Writes the checkpoint durably (see {@link writeFileDurably}): a crash leaves the old or the new one, never a torn one. */
export async function writeCheckpoint(path: string, checkpoint: DownloadCheckpoint): Promise<void> {
  await writeFileDurably(path, JSON.stringify(checkpoint));
}

export async function removeCheckpoint(path: string): Promise<void> {
  await removeFile(path);
  await removeFile(`${path}.tmp`);
}
