import type { ReadingSample } from '@linewatch/protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ReadingsBatcher } from './readings-batcher.js';

const T0 = 1_764_400_000_000;
const reading = (seq: number): ReadingSample => ({ ts: T0 + seq, seq, values: { rf_power: 1500 + seq } });

describe('ReadingsBatcher', () => {
  let batches: ReadingSample[][];
  let dropped: number;
  let batcher: ReadingsBatcher;

  beforeEach(() => {
    vi.useFakeTimers({ now: T0 });
    batches = [];
    dropped = 0;
    batcher = new ReadingsBatcher({ intervalMs: 250, maxBatch: 100, send: (r) => batches.push(r), onDropped: (n) => (dropped += n) });
  });
  afterEach(() => {
    batcher.stop();
    vi.useRealTimers();
  });

  it('sends the first reading after a quiet spell on the next tick, with the rest of its burst', () => {
    batcher.push(reading(1));
    batcher.push(reading(2));
    expect(batches).toHaveLength(0);
    vi.advanceTimersByTime(0);
    expect(batches.map((b) => b.map((r) => r.seq))).toEqual([[1, 2]]);
  });

  it('sends every reading of a fast stream, in order, in at most one batch per interval', () => {
    const sentAt: number[] = [];
    batcher.stop();
    batcher = new ReadingsBatcher({
      intervalMs: 250,
      maxBatch: 100_000,
      send: (r) => {
        batches.push(r);
        sentAt.push(Date.now());
      },
      onDropped: (n) => (dropped += n),
    });
    // 1 kHz for 2 s: 2,000 readings.
    for (let seq = 0; seq < 2_000; seq++) {
      batcher.push(reading(seq));
      vi.advanceTimersByTime(1);
    }
    vi.advanceTimersByTime(250);
    expect(batches.flat().map((r) => r.seq)).toEqual(Array.from({ length: 2_000 }, (_, i) => i));
    // 2.25 s at one batch per 250 ms: 9 at most, and not fewer (nothing waits longer than an interval).
    expect(batches.length).toBeLessThanOrEqual(9);
    expect(batches.length).toBeGreaterThanOrEqual(8);
    for (let i = 1; i < sentAt.length; i++) expect((sentAt[i] ?? 0) - (sentAt[i - 1] ?? 0)).toBeGreaterThanOrEqual(250);
    expect(dropped).toBe(0);
  });

  it('holds at most maxBatch readings per interval and counts the rest as dropped', () => {
    for (let seq = 0; seq < 130; seq++) batcher.push(reading(seq));
    expect(batcher.pending).toBe(100);
    expect(dropped).toBe(30);
    vi.advanceTimersByTime(0);
    expect(batches[0]?.map((r) => r.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    // The next interval starts empty: nothing more is lost.
    batcher.push(reading(200));
    vi.advanceTimersByTime(250);
    expect(batches[1]?.map((r) => r.seq)).toEqual([200]);
    expect(dropped).toBe(30);
  });

  it('forgets what waits when stopped, says how much, and sends nothing after', () => {
    batcher.push(reading(1));
    batcher.push(reading(2));
    expect(batcher.stop()).toBe(2);
    vi.advanceTimersByTime(1_000);
    expect(batches).toHaveLength(0);
  });
});
