import { execFileSync } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';

/** The machine a result was measured on: results mean nothing without it. */
export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  /** `ulimit -n` of this process (the socket ceiling of one process). */
  openFiles: string;
  /** 1-minute load average when the result was printed: other work on the machine skews absolute figures. */
  load: number;
}

export function machine(): Machine {
  let openFiles = 'unknown';
  try {
    openFiles = execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim();
  } catch {
    // Not fatal: the figure is informative only.
  }
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    openFiles,
    load: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
}

export type Cell = string | number | null | undefined;

/** Prints a Markdown table (so a run's output can be pasted into docs/benchmarks.md as is). */
export function printTable(title: string, columns: readonly string[], rows: readonly Cell[][]): void {
  const text = rows.map((row) => row.map(formatCell));
  const widths = columns.map((c, i) => Math.max(c.length, ...text.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  console.log(`\n${title}\n`);
  console.log(line(columns));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of text) console.log(line(row));
  console.log('');
}

function formatCell(cell: Cell): string {
  if (cell === null || cell === undefined) return '–';
  if (typeof cell === 'string') return cell;
  if (!Number.isFinite(cell)) return String(cell);
  if (Number.isInteger(cell)) return cell.toLocaleString('en-US');
  return cell.toLocaleString('en-US', { maximumFractionDigits: Math.abs(cell) < 10 ? 2 : 1 });
}

/** The one machine-readable line every benchmark ends with. */
export function printJson(bench: string, result: Record<string, unknown>): void {
  console.log(JSON.stringify({ bench, at: new Date().toISOString(), machine: machine(), ...result }));
}

/** Progress notes go to stderr, so stdout holds only the tables and the JSON line. */
export function note(message: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

export const round = (value: number, digits = 1): number => {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
};

export const MiB = 1024 * 1024;
