import { readFile, rm } from 'node:fs/promises';
import { writeFileDurably } from './download/durable-files.js';

/** A version to report on the next start, because it only runs after a reboot. */
export interface PendingReport {
  module: string;
  version: string;
}

/**
 * The reboot flow's memory (`<dataDir>/pending-reports.json`): before `install` runs, the device records
 * "report module M at version V on the next start"; the next `connect()` applies and reports it, then forgets
 * it once the broker acknowledged the report. Written durably (temp file, fsync, rename), so power loss during
 * the install leaves the old list or the new one, never a torn file.
 *
 * Writes are serialized: one device may install several modules at once.
 */
export class PendingReports {
  readonly #path: string;
  #chain: Promise<unknown> = Promise.resolve();

  constructor(path: string) {
    this.#path = path;
  }

  /** The recorded reports; none when the file is missing or unreadable. */
  async load(): Promise<PendingReport[]> {
    let text: string;
    try {
      text = await readFile(this.#path, 'utf8');
    } catch {
      return [];
    }
    try {
      return parseReports(JSON.parse(text));
    } catch {
      return [];
    }
  }

  /** Records `report`, replacing an earlier one for the same module. */
  add(report: PendingReport): Promise<void> {
    return this.#update((reports) => [
      ...reports.filter((r) => r.module !== report.module),
      { module: report.module, version: report.version },
    ]);
  }

  /** Forgets the given reports (only where module AND version still match: a newer record stays). */
  remove(done: readonly PendingReport[]): Promise<void> {
    return this.#update((reports) =>
      reports.filter((r) => !done.some((d) => d.module === r.module && d.version === r.version)),
    );
  }

  #update(change: (reports: PendingReport[]) => PendingReport[]): Promise<void> {
    const next = this.#chain.then(async () => {
      const reports = change(await this.load());
      if (reports.length === 0) await rm(this.#path, { force: true });
      else await writeFileDurably(this.#path, JSON.stringify({ reports }));
    });
    this.#chain = next.catch(() => {});
    return next;
  }
}

function parseReports(value: unknown): PendingReport[] {
  if (typeof value !== 'object' || value === null) return [];
  const reports = (value as { reports?: unknown }).reports;
  if (!Array.isArray(reports)) return [];
  return reports.flatMap((r: unknown) => {
    if (typeof r !== 'object' || r === null) return [];
    const { module, version } = r as Record<string, unknown>;
    return typeof module === 'string' && typeof version === 'string' && module && version
      ? [{ module, version }]
      : [];
  });
}
