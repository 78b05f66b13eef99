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
});
