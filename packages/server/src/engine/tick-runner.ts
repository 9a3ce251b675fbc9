import type { Logger } from '../app/ports/logger.js';

/** Anything that does one idempotent pass over the database per call. */
export interface Tickable {
  tick(): Promise<void>;
}

/**
 * Runs a tick every `intervalMs`, and at once when kicked. Ticks never overlap. The timer holds no state: everything
 * a tick needs is in the database. Drives the rollout engine and the webhook dispatcher.
 */
export class TickRunner {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(
    private readonly name: string,
    private readonly target: Tickable,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.schedule(0);
  }

  /** Runs a tick as soon as the current one (if any) ends. */
  kick(): void {
    if (this.stopped) return;
    if (this.running) this.again = true;
    else this.schedule(0);
  }

  /** Resolves after the tick in progress, if any; no tick starts after. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private schedule(delay: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.run(), delay);
  }

  private async run(): Promise<void> {
    if (this.stopped || this.running) return;
    this.running = this.target
      .tick()
      .catch((error: unknown) => this.logger.error({ err: error }, `${this.name} tick failed`));
    await this.running;
    this.running = undefined;
    if (this.stopped) return;
    const delay = this.again ? 0 : this.intervalMs;
    this.again = false;
    this.schedule(delay);
  }
}
