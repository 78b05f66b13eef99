import { describe, expect, it } from 'vitest';
import { parseDateTime, parseLabel, parseNumber, parseTime } from './cells.js';

const at = Date.UTC(2026, 0, 5, 8, 30, 0);

describe('parseTime', () => {
  it.each([
    ['ISO-8601 with Z', '2026-01-05T08:30:00Z', at],
    ['ISO-8601 with lower-case z and fraction', '2026-01-05T08:30:00.250z', at + 250],
    ['ISO-8601 with an offset', '2026-01-05T09:30:00+01:00', at],
    ['ISO-8601 with a negative compact offset', '2026-01-05T03:30:00-0500', at],
    ['ISO-8601 with an hours-only offset', '2026-01-05T10:30:00+02', at],
    ['ISO-8601 without a zone (UTC)', '2026-01-05T08:30:00', at],
    ['YYYY-MM-DD hh:mm:ss', '2026-01-05 08:30:00', at],
    ['YYYY-MM-DD hh:mm:ss with fractional seconds', '2026-01-05 08:30:00.1234', at + 123],
    ['a comma before the fraction', '2026-01-05 08:30:00,5', at + 500],
    ['no seconds', '2026-01-05 08:30', at],
    ['a date alone (midnight UTC)', '2026-01-05', Date.UTC(2026, 0, 5)],
    ['epoch seconds', String(at / 1000), at],
    ['fractional epoch seconds', `${at / 1000}.4567`, at + 457],
    ['epoch milliseconds', String(at), at],
    ['epoch seconds in exponent form', '1.7676e9', 1_767_600_000_000],
    ['surrounding blanks', '  2026-01-05T08:30:00Z ', at],
  ])('reads %s', (_name, cell, expected) => {
    expect(parseTime(cell)).toEqual({ value: expected });
  });

  it('tells seconds from milliseconds at 1e11', () => {
    expect(parseTime('99999999999')).toEqual({ value: 99_999_999_999_000 });
    expect(parseTime('100000000000')).toEqual({ value: 100_000_000_000 });
  });

  it('takes the unit when it is given', () => {
    expect(parseTime('1e13', { unit: 's' })).toEqual({ error: expect.stringMatching(/out of range/) as unknown });
    expect(parseTime('1500', { unit: 'ms' })).toEqual({ value: 1500 });
    expect(parseTime('9.17822', { unit: 's' })).toEqual({ value: 9178 });
  });

  it('reads relative seconds, which may be negative, and refuses calendar times for them', () => {
    expect(parseTime('9.17822', { relative: true })).toEqual({ value: 9178 });
    expect(parseTime('-2.5', { relative: true })).toEqual({ value: -2500 });
    expect(parseTime('2026-01-05', { relative: true })).toEqual({ error: expect.stringMatching(/not a number of seconds/) as unknown });
  });

  it('reads a decimal comma when asked', () => {
    expect(parseTime('9,5', { relative: true, decimalComma: true })).toEqual({ value: 9500 });
  });

  it.each([
    ['empty', '', /empty/],
    ['text', 'yesterday', /not ISO-8601/],
    ['a month 13', '2026-13-05T00:00:00Z', /not a valid date/],
    ['February 30th', '2026-02-30 00:00:00', /not a valid date/],
    ['hour 24', '2026-01-05 24:00:00', /not a valid date/],
    ['a date before 1970', '1969-12-31T23:59:59Z', /not a valid date/],
    ['a negative epoch', '-5', /before 1970/],
    ['a bad zone', '2026-01-05T08:30:00+25:00', /zone offset/],
    ['a US date', '01/05/2026 08:30', /not ISO-8601/],
    ['Infinity', 'Infinity', /not ISO-8601/],
  ])('refuses %s', (_name, cell, message) => {
    const parsed = parseTime(cell);
    expect('error' in parsed && parsed.error).toMatch(message);
  });

  it('knows leap years', () => {
    expect(parseDateTime('2024-02-29 00:00:00')).toEqual({ value: Date.UTC(2024, 1, 29) });
    expect('error' in parseDateTime('2025-02-29 00:00:00')).toBe(true);
  });
});

describe('parseNumber', () => {
  it.each([
    ['12', 12],
    ['-0.5', -0.5],
    ['+3', 3],
    ['.5', 0.5],
    ['5.', 5],
    ['1e-3', 0.001],
    [' 7 ', 7],
  ])('reads %j', (cell, expected) => {
    expect(parseNumber(cell)).toBe(expected);
  });

  it.each(['', 'NaN', 'Infinity', '0x10', '1,000', '1.2.3', '12 W', '1e999'])('refuses %j', (cell) => {
    expect(parseNumber(cell)).toBeUndefined();
  });

  it('reads a decimal comma only when asked', () => {
    expect(parseNumber('1,5')).toBeUndefined();
    expect(parseNumber('1,5', true)).toBe(1.5);
  });
});

describe('parseLabel', () => {
  it.each([
    ['0', 0],
    ['1', 1],
    ['0.0', 0],
    ['1.0', 1],
    ['1.00', 1],
    ['true', 1],
    ['TRUE', 1],
    ['False', 0],
    [' 1 ', 1],
  ])('reads %j as %d', (cell, expected) => {
    expect(parseLabel(cell)).toEqual({ value: expected });
  });

  it.each(['', '2', '0.5', 'yes', '-1', '1.1'])('refuses %j', (cell) => {
    expect('error' in parseLabel(cell)).toBe(true);
  });
});
