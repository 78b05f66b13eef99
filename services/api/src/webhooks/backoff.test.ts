import { describe, expect, it } from 'vitest';
import { delayCeilingMs, nextAttemptAt } from './backoff.js';

const policy = { baseDelayMs: 5_000, maxDelayMs: 3_600_000, retryForMs: 3 * 86_400_000 };

describe('delayCeilingMs', () => {
  it('doubles from the base with each failure, up to the cap', () => {
    expect([1, 2, 3, 4, 5].map((n) => delayCeilingMs(n, policy))).toEqual([5_000, 10_000, 20_000, 40_000, 80_000]);
    expect(delayCeilingMs(11, policy)).toBe(3_600_000); // 5 s × 1024 is past the hour
    expect(delayCeilingMs(5_000, policy)).toBe(3_600_000); // 2^4999 is Infinity; the cap still holds
  });
});

describe('nextAttemptAt', () => {
  it('waits a uniformly random share of the ceiling (full jitter)', () => {
    const at = (random: number, failedAttempts = 3): number | null =>
      nextAttemptAt({ failedAttempts, firstAttemptAt: 0, failedAt: 1_000 }, policy, () => random);
    expect(at(0)).toBe(1_000);
    expect(at(0.5)).toBe(1_000 + 10_000);
    expect(at(0.999999)).toBe(1_000 + 19_999);
    expect(at(0.5, 20)).toBe(1_000 + 1_800_000);
  });

  it('pulls the last retry in to the end of the window, then gives up', () => {
    const short = { ...policy, retryForMs: 60_000 };
    expect(nextAttemptAt({ failedAttempts: 4, firstAttemptAt: 0, failedAt: 50_000 }, short, () => 0.99)).toBe(60_000);
    expect(nextAttemptAt({ failedAttempts: 5, firstAttemptAt: 0, failedAt: 60_000 }, short, () => 0.5)).toBeNull();
    expect(nextAttemptAt({ failedAttempts: 1, firstAttemptAt: 0, failedAt: 70_000 }, short, () => 0)).toBeNull();
  });

  it('keeps retrying for three days with the defaults, spread under the cap', () => {
    let t = 0;
    let attempts = 0;
    for (let next: number | null = 0; next !== null && attempts < 1_000; attempts++) {
      t = next;
      next = nextAttemptAt({ failedAttempts: attempts + 1, firstAttemptAt: 0, failedAt: t }, policy, () => 0.5);
    }
    expect(t).toBe(policy.retryForMs);
    // 0.5 × an hour from the 11th failure on: about 140 attempts in three days.
    expect(attempts).toBeGreaterThan(130);
    expect(attempts).toBeLessThan(160);
  });
});
