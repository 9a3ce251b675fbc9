import { parse } from 'csv-parse/sync';
import { AloftError } from '../errors.js';

/** One device of an import: the name, and optionally its secret and tags. */
export interface DeviceImportRow {
  name: string;
  secret?: string;
  tags?: string[];
}

/** Device names appear in MQTT topics and usernames: no `/`, `+`, `#`, `&`, `;` or spaces. */
export const DEVICE_NAME_PATTERN = /^[A-Za-z0-9_.:@-]{1,64}$/;
export const TAG_PATTERN = /^[A-Za-z0-9_.:=-]{1,64}$/;
export const MAX_TAGS = 20;
export const MAX_IMPORT_ROWS = 100_000;

/**
 * Parses a CSV device list: a header row with `name` and optionally `secret` and `tags` (tags separated by `;`).
 * Throws DEVICE_IMPORT_INVALID naming the line of the first problem.
 */
export function parseDeviceCsv(text: string): DeviceImportRow[] {
  let records: Record<string, string>[];
  try {
    records = parse(text, {
      columns: (h: string[]) => h.map((c) => c.trim().toLowerCase()),
      skip_empty_lines: true,
      trim: true,
      bom: true,
    });
  } catch (error) {
    throw new AloftError('DEVICE_IMPORT_INVALID', [`CSV: ${(error as Error).message}`]);
  }
  if (records.length && !('name' in records[0]!)) {
    throw new AloftError('DEVICE_IMPORT_INVALID', ['CSV header must have a "name" column']);
  }
  return records.map((r) => ({
    name: r.name ?? '',
    ...(r.secret ? { secret: r.secret } : {}),
    ...(r.tags
      ? {
          tags: r.tags
            .split(';')
            .map((t) => t.trim())
            .filter(Boolean),
        }
      : {}),
  }));
}

/** Checks names, tags, duplicates and size; returns the rows unchanged or throws naming the first bad row. */
export function validateImport(rows: readonly DeviceImportRow[]): readonly DeviceImportRow[] {
  if (rows.length === 0) throw new AloftError('DEVICE_IMPORT_INVALID', ['no devices given']);
  if (rows.length > MAX_IMPORT_ROWS) {
    throw new AloftError('DEVICE_IMPORT_INVALID', [
      `${rows.length} devices; at most ${MAX_IMPORT_ROWS} per import`,
    ]);
  }
  const seen = new Set<string>();
  rows.forEach((row, i) => {
    const where = `row ${i + 1}`;
    if (!DEVICE_NAME_PATTERN.test(row.name)) {
      throw new AloftError('DEVICE_IMPORT_INVALID', [
        `${where}: device name "${row.name}" must be 1-64 of A-Z a-z 0-9 _ . : @ -`,
      ]);
    }
    if (seen.has(row.name))
      throw new AloftError('DEVICE_IMPORT_INVALID', [`${where}: "${row.name}" appears twice`]);
    seen.add(row.name);
    if (row.secret !== undefined && !/^[A-Za-z0-9+/=_-]{8,128}$/.test(row.secret)) {
      throw new AloftError('DEVICE_IMPORT_INVALID', [
        `${where}: secret must be 8-128 base64/url-safe characters`,
      ]);
    }
    validateTags(row.tags ?? [], where);
  });
  return rows;
}

export function validateTags(tags: readonly string[], where = 'tags'): void {
  if (tags.length > MAX_TAGS) throw new AloftError('VALIDATION', [`${where}: at most ${MAX_TAGS} tags`]);
  for (const tag of tags) {
    if (!TAG_PATTERN.test(tag)) {
      throw new AloftError('VALIDATION', [`${where}: tag "${tag}" must be 1-64 of A-Z a-z 0-9 _ . : = -`]);
    }
  }
}
