import type { ReadingSample } from '@linewatch/protocol';

/**
 * Gathers one station's readings and hands them on as batches: at most one batch per `intervalMs`, each carrying
 * every reading pushed since the last one, oldest first. A tool may send thousands of readings a second; a chart
 * needs them all but a browser cannot take one message per reading. When the first reading after a quiet spell
 * arrives, it goes out on the next tick (readings of the same burst join it), so an idle station shows at once.
 *
 * A batch holds at most `maxBatch` readings: beyond that, later readings in the same interval are dropped and
 * reported to `onDropped`, so a flood costs bounded memory and a count, never the process.
 */
export class ReadingsBatcher {
  private buffer: ReadingSample[] = [];
  private timer: NodeJS.Timeout | undefined;
  private lastSentAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly options: {
      intervalMs: number;
      maxBatch: number;
      send: (readings: ReadingSample[]) => void;
      onDropped: (count: number) => void;
      now?: () => number;
    },
  ) {}

  push(reading: ReadingSample): void {
    if (this.buffer.length >= this.options.maxBatch) {
      this.options.onDropped(1);
      return;
    }
    this.buffer.push(reading);
    if (this.timer) return;
    const wait = Math.max(0, this.lastSentAt + this.options.intervalMs - this.now());
    this.timer = setTimeout(() => this.flush(), wait);
  }

  /** Readings waiting for the next batch. */
  get pending(): number {
    return this.buffer.length;
  }

  /** Forgets what is waiting (nobody watches any more): returns how many readings that was. */
  stop(): number {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const discarded = this.buffer.length;
    this.buffer = [];
    return discarded;
  }

  private flush(): void {
    this.timer = undefined;
    const batch = this.buffer;
    this.buffer = [];
    if (batch.length === 0) return;
    this.lastSentAt = this.now();
    this.options.send(batch);
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}
