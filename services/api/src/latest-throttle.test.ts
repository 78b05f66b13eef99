import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LatestThrottle } from './latest-throttle.js';

interface Progress {
  state: string;
  sent: number;
}

describe('LatestThrottle', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('sends at most one value per interval, always the latest, and never loses the last', () => {
    const sent: number[] = [];
    const throttle = new LatestThrottle<Progress>(250, (p) => sent.push(p.sent));
    for (let i = 1; i <= 100; i++) {
      throttle.push({ state: 'playing', sent: i });
      vi.advanceTimersByTime(10);
    }
    // 1 000 ms of pushes every 10 ms: the first at once, then one per 250 ms.
    expect(sent.length).toBeLessThanOrEqual(5);
    vi.advanceTimersByTime(250);
    expect(sent.at(-1)).toBe(100);
    expect(sent).toEqual([...sent].sort((a, b) => a - b));
  });

  it('sends an urgent value at once, superseding the waiting one', () => {
    const sent: Progress[] = [];
    const throttle = new LatestThrottle<Progress>(250, (p) => sent.push(p), (a, b) => a.state !== b.state);
    throttle.push({ state: 'playing', sent: 1 });
    throttle.push({ state: 'playing', sent: 2 });
    throttle.push({ state: 'completed', sent: 3 });
    expect(sent.map((p) => p.sent)).toEqual([1, 3]);
    vi.advanceTimersByTime(1_000);
    expect(sent.map((p) => p.sent)).toEqual([1, 3]);
  });

  it('sends nothing after stop()', () => {
    const sent: number[] = [];
    const throttle = new LatestThrottle<number>(250, (n) => sent.push(n));
    throttle.push(1);
    throttle.push(2);
    throttle.stop();
    vi.advanceTimersByTime(1_000);
    expect(sent).toEqual([1]);
  });
});
