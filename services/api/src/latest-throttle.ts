/**
 * Passes on at most one value per `intervalMs`, always the latest, and an urgent one (say, a state change) at
 * once. The last value is never lost: it goes out when the interval ends.
 */
export class LatestThrottle<T> {
  private lastSentAt = Number.NEGATIVE_INFINITY;
  private last: T | undefined;
  private pending: { value: T; timer: NodeJS.Timeout } | undefined;

  constructor(
    private readonly intervalMs: number,
    private readonly send: (value: T) => void,
    private readonly urgent: (previous: T, next: T) => boolean = () => false,
    private readonly now: () => number = Date.now,
  ) {}

  push(value: T): void {
    const now = this.now();
    const previous = this.pending?.value ?? this.last;
    if ((previous !== undefined && this.urgent(previous, value)) || now - this.lastSentAt >= this.intervalMs) {
      this.flush(value, now);
      return;
    }
    if (this.pending) {
      this.pending.value = value;
      return;
    }
    const timer = setTimeout(() => {
      if (this.pending) this.flush(this.pending.value, this.now());
    }, this.intervalMs - (now - this.lastSentAt));
    this.pending = { value, timer };
  }

  stop(): void {
    if (this.pending) clearTimeout(this.pending.timer);
    this.pending = undefined;
  }

  private flush(value: T, now: number): void {
    this.stop();
    this.lastSentAt = now;
    this.last = value;
    this.send(value);
  }
}
