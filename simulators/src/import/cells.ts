/**
 * Parsers for one CSV cell each. They return the value or a reason, never throw: a bad cell is a bad row, and
 * the importer reports every one with its row number.
 */
export type Parsed<T> = { value: T } | { error: string };

/** Plain decimal numbers: `12`, `-0.5`, `.5`, `1e-3`. Not `NaN`, `Infinity`, hex or `1,000`. */
const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** JavaScript dates end here (±8.64e15 ms); a larger epoch cannot be a time. */
const MAX_EPOCH_MS = 8.64e15;

/** Epoch values from here up are milliseconds: 1e11 s is the year 5138, 1e11 ms is March 1973. */
export const EPOCH_MS_FROM = 1e11;

/** `decimalComma` reads `1,5` as 1.5 (European exports that separate fields with `;`). */
export function parseNumber(cell: string, decimalComma = false): number | undefined {
  let text = decimalComma ? cell.replace(',', '.') : cell;
  // Trimming only when the plain test fails saves a copy of every one of a million rows' cells.
  if (!NUMBER.test(text)) {
    text = text.trim();
    if (!NUMBER.test(text)) return undefined;
  }
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

const LABEL = /^(?:(0|1)(?:\.0*)?|(true|false))$/i;

/** Ground-truth label: `0`/`1`, `0.0`/`1.0` or `true`/`false` in any case. */
export function parseLabel(cell: string): Parsed<0 | 1> {
  const match = LABEL.exec(cell.trim());
  if (!match) return { error: `label '${cell}' is not 0, 1, 0.0, 1.0, true or false` };
  const truthy = match[1] === '1' || match[2]?.toLowerCase() === 'true';
  return { value: truthy ? 1 : 0 };
}

// YYYY-MM-DD, then optionally T or space, hh:mm, :ss, .fraction and a zone (Z, ±hh, ±hhmm, ±hh:mm).
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/**
 * A calendar time, `2026-01-05T08:30:00.250+01:00` or `2026-01-05 08:30:00`, as epoch ms. A time without a zone
 * is UTC (a plant historian exports in one zone; say which with a suffix if it is not UTC). Fractions finer than
 * a millisecond are rounded to the nearest one.
 */
export function parseDateTime(text: string): Parsed<number> {
  const m = DATE_TIME.exec(text.trim());
  if (!m) return { error: `time '${text}' is not ISO-8601, 'YYYY-MM-DD hh:mm:ss' or a number` };
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map((p) => Number(p ?? 0)) as [
    number, number, number, number, number, number,
  ];
  if (year < 1970 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || minute > 59 || second > 59) {
    return { error: `time '${text}' is not a valid date and time from 1970 on` };
  }
  let offsetMin = 0;
  const zone = m[8];
  if (zone && zone.toUpperCase() !== 'Z') {
    const digits = zone.slice(1).replace(':', '');
    const [oh, om] = [Number(digits.slice(0, 2)), Number(digits.slice(2) || 0)];
    if (oh > 23 || om > 59) return { error: `time '${text}' has an invalid zone offset` };
    offsetMin = (zone.startsWith('-') ? -1 : 1) * (oh * 60 + om);
  }
  const fraction = m[7] ? Math.round(Number(`0.${m[7]}`) * 1000) : 0;
  const ms = Date.UTC(year, month - 1, day, hour, minute, second) + fraction - offsetMin * 60_000;
  return ms >= 0 ? { value: ms } : { error: `time '${text}' is before 1970` };
}

export interface TimeOptions {
  /** Unit of numeric times; default: milliseconds from 1e11 up, seconds below. */
  unit?: 's' | 'ms' | undefined;
  /** Numeric times count from a chosen origin, so they may be small or negative; calendar times are refused. */
  relative?: boolean | undefined;
  decimalComma?: boolean | undefined;
}

/**
 * A timestamp cell as milliseconds: epoch ms, or ms from the origin when `relative`. Numbers are epoch seconds or
 * milliseconds (fractional seconds allowed), anything else must be a calendar time.
 */
export function parseTime(cell: string, options: TimeOptions = {}): Parsed<number> {
  const number = parseNumber(cell, options.decimalComma);
  if (number === undefined) {
    if (options.relative) return { error: `time '${cell}' is not a number of seconds from --time-origin` };
    return cell.trim() === '' ? { error: 'time is empty' } : parseDateTime(cell);
  }
  const unit = options.unit ?? (Math.abs(number) >= EPOCH_MS_FROM ? 'ms' : 's');
  const ms = Math.round(unit === 'ms' ? number : number * 1000);
  if (Math.abs(ms) > MAX_EPOCH_MS) return { error: `time '${cell}' is out of range` };
  if (!options.relative && ms < 0) return { error: `time '${cell}' is before 1970` };
  return { value: ms };
}
