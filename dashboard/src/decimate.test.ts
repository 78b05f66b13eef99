import { describe, expect, it } from 'vitest';
import { decimate, type Columns } from './decimate.js';

describe('decimate', () => {
  it('keeps each bucket’s lowest and highest value of every series, at its first and last time', () => {
    const data: Columns = [[0, 1, 2, 3, 10, 11, 12], [5, 9, 1, 7, 4, 2, 8], [1, 1, 1, 1, 2, 2, 2]];
    expect(decimate(data, 0, 20, 2)).toEqual([[0, 3, 10, 12], [1, 9, 8, 2], [1, 1, 2, 2]]);
  });

  it('leaves data that already fits alone', () => {
    const data: Columns = [[0, 1, 2], [1, 2, 3]];
    expect(decimate(data, 0, 10, 2)).toBe(data);
  });

  it('keeps a gap: a bucket where a series had no value breaks its line', () => {
    const data: Columns = [[0, 1, 2, 3, 4, 5, 6, 7], [1, 2, null, 4, 5, 6, 7, 8]];
    const [xs, ys] = decimate(data, 0, 8, 2);
    expect(xs).toEqual([0, 3, 4, 7]);
    expect(ys).toEqual([null, 4, 8, 5]);
  });

  it('thins 3,000 points to two per pixel column whatever their shape, envelope intact', () => {
    const xs = Array.from({ length: 3_000 }, (_, i) => i * 100);
    const ys = xs.map((_, i) => Math.sin(i / 7) * 10 + (i === 1_234 ? 100 : 0));
    const [outX, outY] = decimate([xs, ys], 0, 300_000, 600);
    expect(outX.length).toBeLessThanOrEqual(1_200);
    expect(Math.max(...(outY as number[]))).toBe(Math.max(...ys));
    expect(Math.min(...(outY as number[]))).toBe(Math.min(...ys));
    expect(outX.every((x, i) => i === 0 || x > (outX[i - 1] ?? -1))).toBe(true);
  });
});
