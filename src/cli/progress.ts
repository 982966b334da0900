/**
 * A one-line progress bar on stderr for `geventjs explore` (a Node driver). Drawn only when stderr is
 * a TTY, at most every 100 ms, and erased when the sweep ends so the report starts on a clean line.
 */
import { rt } from '../core/runtime.js';

/** Stream the bar draws on (process.stderr). */
export interface TtyLike {
  isTTY?: boolean;
  columns?: number;
  write(s: string): unknown;
}

/**
 * A progress bar: seeds done / total, failures, seeds per second.
 * @example
 * const bar = new ProgressBar(10_000);
 * bar.update(1234, 0); // [#####.........] 1,234/10,000 seeds · 0 failures · 812 seeds/s
 * bar.stop();
 */
export class ProgressBar {
  private readonly total: number;
  private readonly out: TtyLike;
  private readonly t0 = rt.host.now();
  private done = 0;
  private failures = 0;
  private shown = false;
  private readonly timer: ReturnType<typeof setInterval> | null;

  constructor(total: number, out: TtyLike = process.stderr) {
    this.total = total;
    this.out = out;
    this.timer = out.isTTY ? setInterval(() => this.draw(), 100) : null;
    this.timer?.unref();
  }

  /** Records progress (drawn on the next tick). */
  update(done: number, failures: number): void {
    this.done = done;
    this.failures = failures;
  }

  /** The bar's text for the current figures. */
  line(width = 80): string {
    const secs = (rt.host.now() - this.t0) / 1000;
    const rate = secs > 0 ? this.done / secs : 0;
    const n = (x: number): string => x.toLocaleString('en-US');
    const tail = ` ${n(Math.min(this.done, this.total))}/${n(this.total)} seeds · ${n(this.failures)} failure${this.failures === 1 ? '' : 's'} · ${rate < 10 ? rate.toFixed(1) : Math.round(rate)} seeds/s`;
    const barWidth = Math.max(10, Math.min(40, width - tail.length - 3));
    const filled = this.total > 0 ? Math.round((barWidth * Math.min(this.done, this.total)) / this.total) : barWidth;
    return `[${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}]${tail}`;
  }

  private draw(): void {
    this.shown = true;
    this.out.write(`\r${this.line(this.out.columns ?? 80)}\x1b[K`);
  }

  /** Stops drawing and erases the bar. */
  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    if (this.shown) this.out.write('\r\x1b[K');
  }
}
