import { language, t } from './i18n.js';

/** Numbers as an operator reads them: 3 significant digits, no exponent soup. */
export function formatNumber(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  const abs = Math.abs(value);
  if (abs >= 1000) return value.toFixed(0);
  if (abs >= 100) return value.toFixed(1);
  return value.toPrecision(3).replace(/\.?0+$/, '') || '0';
}

/** A count of things (points, messages): a whole number, grouped as the page language writes it ("41,200"). */
export function formatCount(value: number): string {
  return Math.round(value).toLocaleString(language());
}

/** A short age in the page language: "4 s", "12 min", "3 h" (or "4초", "12분", "3시간"). */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return t('format.ageSeconds', { n: s });
  const min = Math.round(s / 60);
  if (min < 120) return t('format.ageMinutes', { n: min });
  return t('format.ageHours', { n: Math.round(min / 60) });
}

/**
 * A wall-clock time, 24-hour: "13:05:09". `hourCycle` rather than `hour12: false`, which writes midnight as "24:05:09"
 * in English; the page language rather than the browser's, so the digits match the words around them.
 */
export function formatClock(epochMs: number): string {
  return new Date(epochMs).toLocaleTimeString(language(), { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
}

/** SEMI E10 words for people: UNSCHEDULED_DOWN → "UNSCHEDULED DOWN". */
export function formatWord(word: string): string {
  return word.replace(/_/g, ' ');
}

/** A replay speed as people say it: "10×", or "max speed". */
export function formatSpeed(speed: number | 'max'): string {
  return speed === 'max' ? t('format.maxSpeed') : `${formatNumber(speed)}×`;
}

/** A duration like a countdown: "1:02", "1:02:03", or "--:--" when unknown. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '--:--';
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** A share 0..1 as whole percent, never 100 % before it is done. */
export function formatPercent(fraction: number): string {
  const pct = fraction >= 1 ? 100 : Math.min(99, Math.floor(fraction * 100));
  return `${pct} %`;
}
