/**
 * A one-line progress bar on stderr for `geventjs explore` (a Node driver). Drawn only when stderr is
 * a TTY, from `start()` on, every 100 ms, and erased when the sweep ends so the report starts on a
 * clean line. The rate is taken over the last few seconds (the sweep's pace now, not since start-up).
 */
import { rt } from '../core/runtime.js';

/**
 * Stream the bar draws on (process.stderr, or a stand-in in tests).
 * @example
 * const out: TtyLike = { isTTY: true, columns: 100, write: (s) => chunks.push(s) };
 */
export interface TtyLike {
  isTTY?: boolean;
  columns?: number;
  write(s: string): unknown;
}

/** Seconds of history the rate is taken over. */
const WINDOW_MS = 3000;

/**
 * A progress bar: seeds done / total, failures, seeds per second.
 * @example
 * const bar = new ProgressBar(10_000);
 * bar.start();
 * bar.update(1234, 0); // [#####.........] 1,234/10,000 seeds · 0 failures · 812 seeds/s
 * bar.stop();
 */
export class ProgressBar {
  private readonly total: number;
  private readonly out: TtyLike;
  private done = 0;
  private failures = 0;
  private shown = false;
  private stopped = false;
  private timer: ReturnType<typeof setInterval> | null = null;
  /** (time ms, seeds done) samples of the last WINDOW_MS, oldest first. */
  private samples: [number, number][] = [];

  constructor(total: number, out: TtyLike = process.stderr) {
    this.total = total;
    this.out = out;
  }

  /** Starts drawing (on a TTY). */
  start(): void {
    if (this.timer !== null || this.stopped || !this.out.isTTY) return;
    this.samples = [[rt.host.now(), this.done]];
    this.timer = setInterval(() => this.draw(), 100);
    this.timer.unref();
  }

  /** Records progress (drawn on the next tick). */
  update(done: number, failures: number): void {
    this.done = done;
    this.failures = failures;
  }

  /** Seeds per second over the last few seconds. */
  private rate(): number {
    const now = rt.host.now();
    this.samples.push([now, this.done]);
    while (this.samples.length > 2 && now - this.samples[1]![0] >= WINDOW_MS) this.samples.shift();
    const [t0, d0] = this.samples[0] ?? [now, this.done];
    return now > t0 ? ((this.done - d0) * 1000) / (now - t0) : 0;
  }

  /** The bar's text for the current figures. */
  line(width = 80): string {
    const rate = this.rate();
    const n = (x: number): string => x.toLocaleString('en-US');
    const tail = ` ${n(Math.min(this.done, this.total))}/${n(this.total)} seeds · ${n(this.failures)} failure${this.failures === 1 ? '' : 's'} · ${rate < 10 ? rate.toFixed(1) : Math.round(rate)} seeds/s`;
    const barWidth = Math.max(10, Math.min(30, width - 62)); // fixed for a given terminal, so the bar does not jump
    const filled = this.total > 0 ? Math.round((barWidth * Math.min(this.done, this.total)) / this.total) : barWidth;
    return `[${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}]${tail}`;
  }

  private draw(): void {
    this.shown = true;
    this.out.write(`\r${this.line(this.out.columns || 80)}\x1b[K`);
  }

  /** Stops drawing and erases the bar. */
  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearInterval(this.timer);
    if (this.shown) this.out.write('\r\x1b[K');
  }
}
