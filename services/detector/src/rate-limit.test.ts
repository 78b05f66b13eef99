import { describe, expect, it } from 'vitest';
import { RateLimiter } from './rate-limit.js';

describe('RateLimiter', () => {
  it('allows a burst, then the steady rate, per key', () => {
    let now = 0;
    const limiter = new RateLimiter({ ratePerS: 10, burst: 3, now: () => now });
    expect([1, 2, 3, 4].map(() => limiter.take('a'))).toEqual([true, true, true, false]);
    // Another key has its own bucket.
    expect(limiter.take('b')).toBe(true);
    now += 100; // one token back at 10/s
    expect(limiter.take('a')).toBe(true);
    expect(limiter.take('a')).toBe(false);
    now += 10_000; // refills to the burst, not beyond
    expect([1, 2, 3, 4].map(() => limiter.take('a'))).toEqual([true, true, true, false]);
  });

  it('remembers at most maxKeys keys', () => {
    const limiter = new RateLimiter({ ratePerS: 1, burst: 1, maxKeys: 100, now: () => 0 });
    for (let i = 0; i < 1000; i++) limiter.take(`s${i}`);
    expect(limiter.size).toBe(100);
  });
});
