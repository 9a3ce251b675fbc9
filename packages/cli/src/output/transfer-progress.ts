import type { OutputSink } from '../cli-io.js';
import { formatBytes, formatDuration, progressBar } from './format.js';

const TTY_REDRAW_MS = 100;
const LOG_EVERY_MS = 5_000;

/**
 * A progress line for an upload or download, on stderr so stdout keeps only the result. On a terminal it
 * redraws in place; in a log (CI) it prints a line every few seconds and a summary at the end.
 */
export class TransferProgress {
  #done = 0;
  #lastDraw = Number.NEGATIVE_INFINITY;
  readonly #started: number;

  constructor(
    private readonly sink: OutputSink,
    private readonly label: string,
    private readonly total: number | undefined,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.#started = now();
    this.#lastDraw = sink.isTTY ? Number.NEGATIVE_INFINITY : this.#started;
  }

  /** Counts `bytes` more as transferred. */
  add(bytes: number): void {
    this.#done += bytes;
    const now = this.now();
    if (now - this.#lastDraw < (this.sink.isTTY ? TTY_REDRAW_MS : LOG_EVERY_MS)) return;
    this.#lastDraw = now;
    this.sink.write(this.sink.isTTY ? `\r\x1b[K${this.line(now)}` : `${this.line(now)}\n`);
  }

  /** Ends the line with a summary: `<label>: 12.0 MiB in 3s (4.0 MiB/s)`. */
  finish(): void {
    const elapsed = this.now() - this.#started;
    const rate = elapsed > 0 ? ` (${formatBytes(Math.round((this.#done / elapsed) * 1000))}/s)` : '';
    const summary = `${this.label}: ${formatBytes(this.#done)} in ${formatDuration(elapsed)}${rate}`;
    this.sink.write(this.sink.isTTY ? `\r\x1b[K${summary}\n` : `${summary}\n`);
  }

  /** Clears a half-drawn line, so an error message starts at the left edge. */
  abort(): void {
    if (this.sink.isTTY && Number.isFinite(this.#lastDraw)) this.sink.write('\r\x1b[K');
  }

  /** The progress line at time `now`. */
  line(now = this.now()): string {
    const elapsed = now - this.#started;
    const rate = elapsed > 0 ? `${formatBytes(Math.round((this.#done / elapsed) * 1000))}/s` : '';
    if (this.total === undefined || this.total === 0) {
      return `${this.label}  ${formatBytes(this.#done)}  ${rate}`.trimEnd();
    }
    const ratio = this.#done / this.total;
    const percent = `${Math.floor(ratio * 100)}%`.padStart(4);
    return `${this.label}  ${progressBar(ratio, 24)} ${percent}  ${formatBytes(this.#done)} / ${formatBytes(this.total)}  ${rate}`.trimEnd();
  }
}
