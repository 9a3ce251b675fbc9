/** True when a driver error is a unique/primary-key violation (SQLite or PostgreSQL). */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** PostgreSQL's deadlock_detected: the transaction chosen to break a lock cycle was rolled back. */
export function isDeadlock(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === '40P01';
}

/**
 * True when the database refused the data itself — a constraint (a row referring to a deleted device…), a value it
 * cannot hold — rather than failing as a whole (connection lost, shut down, timeout): retrying the same writes in
 * smaller parts can then isolate the rows at fault. PostgreSQL SQLSTATE classes 22 (data exception) and 23
 * (integrity constraint violation); SQLite's constraint, type-mismatch and too-big errors.
 */
export function isDataError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return false;
  return /^2[23][0-9A-Z]{3}$/.test(code) || /^SQLITE_(CONSTRAINT|MISMATCH|TOOBIG)/.test(code);
}

/** Splits a list into chunks, to keep statements under the drivers' bound-parameter limits. */
export function chunked<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}
