import { describe, expect, it } from 'vitest';
import { formatAge, formatDuration, formatNumber, formatPercent, formatSpeed, formatWord } from './format.js';

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

describe('replay formats', () => {
  it('says speeds, countdowns and shares the way the banner shows them', () => {
    expect(formatSpeed(10)).toBe('10×');
    expect(formatSpeed(2.5)).toBe('2.5×');
    expect(formatSpeed('max')).toBe('max speed');
    expect(formatDuration(62_000)).toBe('1:02');
    expect(formatDuration(3_723_000)).toBe('1:02:03');
    expect(formatDuration(null)).toBe('--:--');
    expect(formatPercent(0.456)).toBe('45 %');
    expect(formatPercent(0.999)).toBe('99 %');
    expect(formatPercent(1)).toBe('100 %');
  });
});
