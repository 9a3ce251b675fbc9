import type { OutputSink } from '../cli-io.js';
import type { Fleet } from './fleet.js';
import { formatLiveStatus } from './fleet-report.js';

/** How often the summary is redrawn on a terminal, and written as a new line elsewhere (logs, CI). */
const TTY_INTERVAL_MS = 250;
const LOG_INTERVAL_MS = 5000;

/**
 * Shows the fleet's live summary on `sink` (stderr): redrawn in place on a terminal, a line every few seconds
 * otherwise, so a log gets a readable history rather than a wall of escape codes.
 */
export class LiveStatus {
  readonly #sink: OutputSink;
  readonly #fleet: Fleet;
  readonly #tty: boolean;
  #timer: ReturnType<typeof setInterval> | undefined;
  #drawnLines = 0;

  constructor(sink: OutputSink, fleet: Fleet) {
    this.#sink = sink;
    this.#fleet = fleet;
    this.#tty = sink.isTTY === true;
  }

  start(): void {
    this.#draw();
    this.#timer = setInterval(() => this.#draw(), this.#tty ? TTY_INTERVAL_MS : LOG_INTERVAL_MS);
    this.#timer.unref?.();
  }

  /** Draws a last time and stops. */
  stop(): void {
    if (this.#timer === undefined) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#draw();
  }

  #draw(): void {
    const lines = formatLiveStatus(this.#fleet.snapshot());
    if (!this.#tty) {
      this.#sink.write(`${lines.join('  |  ')}\n`);
      return;
    }
    // Move back up over the previous drawing and overwrite it line by line.
    const up = this.#drawnLines > 0 ? `\x1b[${this.#drawnLines}F` : '';
    this.#sink.write(`${up}${lines.map((line) => `\x1b[2K${line}\n`).join('')}`);
    this.#drawnLines = lines.length;
  }
}
