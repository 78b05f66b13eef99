import { progressLine, type ReplayProgress } from './progress.js';

/** The part of a stream this needs: stderr in the CLI, a fake in tests. */
export interface ProgressOutput {
  isTTY?: boolean | undefined;
  columns?: number | undefined;
  write(text: string): unknown;
}

const REDRAW_MS = 100;

/**
 * Shows replay progress on stderr. On a terminal it redraws one line (at most ten times a second); when stderr
 * is a file or a pipe (CI, docker logs), it writes a line at every 10 % instead, or every pass when looping,
 * so a log is not flooded with carriage returns.
 */
export class TerminalProgress {
  private lastDraw = Number.NEGATIVE_INFINITY;
  private lastDecile = -1;
  private lastPass = -1;
  private lastLine = '';

  constructor(
    private readonly out: ProgressOutput,
    private readonly now: () => number = Date.now,
  ) {}

  update(p: ReplayProgress): void {
    const now = this.now();
    if (this.out.isTTY) {
      if (now - this.lastDraw < REDRAW_MS) return;
      this.lastDraw = now;
      this.draw(progressLine(p, now));
      return;
    }
    if (p.total === null) {
      if (p.pass !== this.lastPass) this.log(progressLine(p, now));
      this.lastPass = p.pass;
      return;
    }
    const decile = p.total === 0 ? 10 : Math.floor((Math.min(p.sent, p.total) / p.total) * 10);
    if (decile > this.lastDecile) {
      this.lastDecile = decile;
      this.log(progressLine(p, now));
    }
  }

  /** The final state, on a line of its own. */
  finish(p: ReplayProgress): void {
    const line = progressLine(p, this.now());
    if (this.out.isTTY) {
      this.draw(line);
      this.out.write('\n');
    } else if (line !== this.lastLine && (p.total === null || this.lastDecile < 10)) {
      this.log(line);
    }
  }

  private log(line: string): void {
    this.lastLine = line;
    this.out.write(`${line}\n`);
  }

  private draw(line: string): void {
    const width = Math.max(20, (this.out.columns ?? 100) - 1);
    // \r and erase-line: the bar stays on one line however the previous one was longer.
    this.out.write(`\r\x1b[2K${line.length > width ? line.slice(0, width) : line}`);
  }
}
