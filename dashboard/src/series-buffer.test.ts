import { describe, expect, it } from 'vitest';
import { SeriesBuffer } from './series-buffer.js';

describe('SeriesBuffer', () => {
  it('keeps columns aligned with the times, with no value as null', () => {
    const b = new SeriesBuffer(['a', 'b'], 100, 10_000);
    b.append(1_000, (n) => (n === 'a' ? 1 : undefined));
    b.append(2_000, (n) => (n === 'a' ? 2 : Number.NaN));
    expect(b.data()).toEqual([[1_000, 2_000], [1, 2], [null, null]]);
  });

  it('refuses a point not newer than the last', () => {
    const b = new SeriesBuffer(['a'], 100, 10_000);
    expect(b.append(2_000, () => 1)).toBe(true);
    expect(b.append(2_000, () => 2)).toBe(false);
    expect(b.append(1_000, () => 3)).toBe(false);
    expect(b.data()).toEqual([[2_000], [1]]);
  });

  it('breaks the line across a silence longer than the gap', () => {
    const b = new SeriesBuffer(['a'], 100, 5_000);
    b.append(1_000, () => 1);
    b.append(20_000, () => 2);
    expect(b.data()).toEqual([[1_000, 1_001, 20_000], [1, null, 2]]);
  });

  it('stays within its size, dropping the oldest', () => {
    const b = new SeriesBuffer(['a'], 10, 10_000);
    for (let i = 1; i <= 100; i++) b.append(i * 1_000, () => i);
    expect(b.length).toBeLessThanOrEqual(11);
    expect(b.last).toBe(100_000);
    expect(b.columns[0]?.at(-1)).toBe(100);
  });

  it('drops points before a time', () => {
    const b = new SeriesBuffer(['a'], 100, 10_000);
    for (let i = 1; i <= 5; i++) b.append(i * 1_000, () => i);
    b.trimBefore(3_000);
    expect(b.data()).toEqual([[3_000, 4_000, 5_000], [3, 4, 5]]);
  });
});
