import { spawnSync } from 'node:child_process';

/**
 * The benchmarks measure the workspace packages' TypeScript sources, not whatever `dist/` was last built. Run
 * without `--conditions=source` (e.g. `tsx bench/ingest.ts`), a script re-runs itself with it and exits with its
 * status. Call it before doing any work.
 */
export function ensureSourceConditions(): void {
  if (import.meta.resolve('@aloft/protocol').endsWith('/src/index.ts')) return;
  const result = spawnSync(
    process.execPath,
    [...process.execArgv, '--conditions=source', ...process.argv.slice(1)],
    { stdio: 'inherit' },
  );
  process.exit(result.status ?? 1);
}
