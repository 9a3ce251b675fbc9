import { join } from 'node:path';
import type { UpgradeTask } from '@aloft/protocol';

/** Where one module's download lives inside the data directory. */
export interface PackageFiles {
  /** `<dir>/<module>.part`: the bytes received so far. */
  part: string;
  /** `<dir>/<module>.checkpoint.json`: how many bytes of `part` are durable, and for which package. */
  checkpoint: string;
  /** `<dir>/<module>-<version>.bin`: the verified file. */
  final: string;
}

/**
 * Module and version come from the server, so they are made file-name safe: anything outside
 * `[A-Za-z0-9._-]` is percent-encoded (injective, so two modules never share a file), and a leading dot too,
 * so `..` cannot name a parent directory.
 */
export function fileNamePart(value: string): string {
  const encoded = value.replace(/[^A-Za-z0-9._-]/gu, (c) =>
    [...Buffer.from(c, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''),
  );
  return encoded.startsWith('.') ? `%2E${encoded.slice(1)}` : encoded;
}

export function packageFiles(dir: string, task: Pick<UpgradeTask, 'module' | 'version'>): PackageFiles {
  const module = fileNamePart(task.module);
  return {
    part: join(dir, `${module}.part`),
    checkpoint: join(dir, `${module}.checkpoint.json`),
    final: join(dir, `${module}-${fileNamePart(task.version)}.bin`),
  };
}
