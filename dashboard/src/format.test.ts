import { describe, expect, it } from 'vitest';
import { formatAge, formatClock, formatDuration, formatNumber, formatPercent, formatSpeed, formatWord } from './format.js';
import { core } from './i18n/core.js';
import { panels } from './i18n/panels.js';
import { inKorean } from './testing/in-korean.js';

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


describe('format in the page language', () => {
  it('says ages and the max speed in Korean, and numbers and clocks the same', () => {
    expect(inKorean(() => [formatAge(4_200), formatAge(12 * 60_000), formatAge(3 * 3_600_000), formatSpeed('max'), formatSpeed(10)])).toEqual([
      '4초', '12분', '3시간', '최고 속도', '10×',
    ]);
    expect(formatAge(4_200)).toBe('4 s');
    const at = new Date(2025, 0, 1, 13, 5, 9).getTime();
    expect([formatClock(at), inKorean(() => formatClock(at))]).toEqual(['13:05:09', '13:05:09']);
  });

  it('writes the hour after midnight as 00, not 24', () => {
    expect(formatClock(new Date(2025, 0, 1, 0, 5, 9).getTime())).toBe('00:05:09');
  });
});

describe('dictionaries', () => {
  const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

  it('have every key in both languages, none empty, with the same placeholders', () => {
    for (const { en, ko } of [core, panels] as { en: Record<string, string>; ko: Record<string, string> }[]) {
      expect(Object.keys(ko).sort()).toEqual(Object.keys(en).sort());
      for (const [key, text] of Object.entries(en)) {
        const korean = ko[key] ?? '';
        expect(text.trim(), key).not.toBe('');
        expect(korean.trim(), key).not.toBe('');
        expect(placeholders(korean), key).toEqual(placeholders(text));
      }
    }
  });

  it('keep the panels’ keys apart from core’s, which a spread would silently override', () => {
    expect(Object.keys(panels.en).filter((key) => key in core.en)).toEqual([]);
  });

  it('have no panel text left in English in Korean', () => {
    expect(Object.entries(panels.en).filter(([key, text]) => (panels.ko as Record<string, string>)[key] === text)).toEqual([]);
  });
});
