import { describe, expect, it } from 'vitest';
import { median, percentile } from './stats.js';

describe('percentile', () => {
  it('uses the nearest rank, so p99 of 100 samples is the 99th, not the max', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(xs, 99)).toBe(99);
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 100)).toBe(100);
  });
  it('is NaN without samples, so an empty phase cannot pass a latency target', () => {
    expect(percentile([], 99)).toBeNaN();
  });
  it('median sorts its input', () => {
    expect(median([30, 10, 20])).toBe(20);
  });
});
