/**
 * Token buckets keyed by station: `ratePerS` tokens a second, up to `burst` banked. One flooding station then
 * spends only its own tokens, so it cannot starve the others of scoring time or store bandwidth.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly opts: {
      ratePerS: number;
      burst: number;
      /** Most keys remembered: hostile topics must not grow this map without bound. */
      maxKeys?: number;
      now?: () => number;
    },
  ) {}

  /** Takes one token for `key`; false when its bucket is empty (the message is over the limit). */
  take(key: string): boolean {
    const now = (this.opts.now ?? Date.now)();
    let b = this.buckets.get(key);
    if (!b) {
      this.evictIfFull();
      b = { tokens: this.opts.burst, at: now };
      this.buckets.set(key, b);
    } else {
      b.tokens = Math.min(this.opts.burst, b.tokens + ((now - b.at) / 1000) * this.opts.ratePerS);
      b.at = now;
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  get size(): number {
    return this.buckets.size;
  }

  private evictIfFull(): void {
    const max = this.opts.maxKeys ?? 10_000;
    if (this.buckets.size < max) return;
    // Maps iterate in insertion order: dropping the oldest key only resets that key's bucket to full, which at
    // worst lets one of more than `maxKeys` stations burst once more.
    const oldest = this.buckets.keys().next();
    if (!oldest.done) this.buckets.delete(oldest.value);
  }
}
