import { describe, expect, it } from 'vitest';
import { LagBuffer } from './lag-buffer.js';
import { segmentIds, stackWindow, windowEnds } from './lagged.js';

const row = (...values: number[]): Float64Array => Float64Array.from(values);

describe('LagBuffer', () => {
  it('warms up for L snapshots, then stacks the current snapshot first and the oldest last', () => {
    const buffer = new LagBuffer();
    expect(buffer.push('etch.onnx', row(1, 10), 2)).toBeUndefined();
    expect(buffer.warmingUp('etch.onnx', 2)).toBe(1);
    expect(buffer.push('etch.onnx', row(2, 20), 2)).toBeUndefined();
    expect(Array.from(buffer.push('etch.onnx', row(3, 30), 2)!)).toEqual([3, 30, 2, 20, 1, 10]);
    expect(Array.from(buffer.push('etch.onnx', row(4, 40), 2)!)).toEqual([4, 40, 3, 30, 2, 20]);
  });

  it('returns a copy with lags 0 and keeps its own copies of pushed rows', () => {
    const buffer = new LagBuffer();
    const reused = row(1, 2);
    const first = buffer.push('a', reused, 0)!;
    expect(Array.from(first)).toEqual([1, 2]);
    expect(first).not.toBe(reused);
    buffer.push('b', reused, 1);
    reused[0] = 99;
    expect(Array.from(buffer.push('b', row(5, 6), 1)!)).toEqual([5, 6, 1, 2]);
  });

  it('starts afresh when the station moves to another model, and back', () => {
    const buffer = new LagBuffer();
    buffer.push('etch/main_etch.onnx', row(1), 1);
    expect(buffer.push('etch/main_etch.onnx', row(2), 1)).toBeDefined();
    // The next step's model: its window may not reach back into main_etch.
    expect(buffer.push('etch/over_etch.onnx', row(3), 1)).toBeUndefined();
    expect(Array.from(buffer.push('etch/over_etch.onnx', row(4), 1)!)).toEqual([4, 3]);
    // Back in main_etch on the next wafer: the previous wafer's rows are not this snapshot's past.
    expect(buffer.push('etch/main_etch.onnx', row(5), 1)).toBeUndefined();
    expect(Array.from(buffer.push('etch/main_etch.onnx', row(6), 1)!)).toEqual([6, 5]);
  });

  it('forgets on reset, of the current key or of everything', () => {
    const buffer = new LagBuffer();
    buffer.push('k', row(1), 1);
    buffer.reset('other');
    expect(buffer.push('k', row(2), 1)).toBeDefined();
    buffer.reset('k');
    expect(buffer.push('k', row(3), 1)).toBeUndefined();
    buffer.reset();
    expect(buffer.push('k', row(4), 1)).toBeUndefined();
    expect(Array.from(buffer.push('k', row(5), 1)!)).toEqual([5, 4]);
  });

  it('follows a model whose lag count or width changed on reload', () => {
    const buffer = new LagBuffer();
    buffer.push('k', row(1), 1);
    buffer.push('k', row(2), 1);
    expect(buffer.push('k', row(3), 2)).toBeUndefined();
    expect(Array.from(buffer.push('k', row(4), 2)!)).toEqual([4, 3, 2]);
    expect(buffer.push('k', row(5, 5), 1)).toBeUndefined();
    expect(() => buffer.push('k', row(1), -1)).toThrow(/lags must be an integer/);
  });

  it('builds the same windows as training does from consecutive rows of one segment', () => {
    const rows = [[1, 10], [2, 20], [3, 30], [4, 40], [5, 50], [6, 60]];
    const keys = ['idle', 'idle', 'idle', 'etch', 'etch', 'etch'];
    const segments = segmentIds(keys, undefined, rows.length);
    const trained = windowEnds(segments, rows.length, 1).map((i) => stackWindow(rows, i, 1));
    const buffer = new LagBuffer();
    const live = rows.flatMap((r, i) => {
      const stacked = buffer.push(keys[i]!, Float64Array.from(r), 1);
      return stacked ? [Array.from(stacked)] : [];
    });
    expect(live).toEqual(trained);
    expect(trained).toEqual([[2, 20, 1, 10], [3, 30, 2, 20], [5, 50, 4, 40], [6, 60, 5, 50]]);
  });

  it('with a lag period, reads the snapshots nearest t − k·period, so a 1 Hz model sees the same past at 10 Hz', () => {
    const buffer = new LagBuffer();
    const at = (ts: number) => ({ ts, periodMs: 1000 });
    // 10 Hz: snapshots every 100 ms, value = ts / 100.
    const out: (number[] | undefined)[] = [];
    for (let ts = 0; ts <= 2500; ts += 100) {
      const r = buffer.push('k', row(ts / 100), 2, at(ts));
      out.push(r ? Array.from(r) : undefined);
    }
    // Warming up until 2 periods of history exist, within half a period: at 1.5 s the one at 0.5 s and, for
    // -0.5 s, the one at 0 s (exactly half a period off) fill the window; at 1.4 s nothing is close enough to -0.6 s.
    expect(out.slice(0, 15).every((r) => r === undefined)).toBe(true);
    expect(out[15]).toEqual([15, 5, 0]);
    expect(out[20]).toEqual([20, 10, 0]);
    expect(out[25]).toEqual([25, 15, 5]);
  });

  it('with a lag period, waits after a gap longer than half a period instead of reading across it', () => {
    const buffer = new LagBuffer();
    buffer.push('k', row(1), 1, { ts: 0, periodMs: 1000 });
    expect(Array.from(buffer.push('k', row(2), 1, { ts: 1000, periodMs: 1000 })!)).toEqual([2, 1]);
    // The snapshot 1 s before ts 3000 would be at 2000: none within 500 ms.
    expect(buffer.push('k', row(3), 1, { ts: 3000, periodMs: 1000 })).toBeUndefined();
    expect(Array.from(buffer.push('k', row(4), 1, { ts: 3900, periodMs: 1000 })!)).toEqual([4, 3]);
  });
});
