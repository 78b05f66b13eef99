import { describe, expect, it } from 'vitest';
import { formatAge, formatNumber, formatWord } from './format.js';

describe('format', () => {
  it('keeps numbers short and readable', () => {
    expect(formatNumber(0.3149)).toBe('0.315');
    expect(formatNumber(1)).toBe('1');
    expect(formatNumber(1620.4)).toBe('1620');
    expect(formatNumber(152.44)).toBe('152.4');
    expect(formatNumber(null)).toBe('–');
    expect(formatNumber(Number.NaN)).toBe('–');
  });

  it('gives ages in the unit a person would use', () => {
    expect(formatAge(4_200)).toBe('4 s');
    expect(formatAge(12 * 60_000)).toBe('12 min');
    expect(formatAge(3 * 3_600_000)).toBe('3 h');
  });

  it('turns enum words into plain words', () => {
    expect(formatWord('UNSCHEDULED_DOWN')).toBe('UNSCHEDULED DOWN');
  });
});
