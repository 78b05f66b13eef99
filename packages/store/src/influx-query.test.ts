import { describe, expect, it } from 'vitest';
import { anomaliesQuery, countQuery, parseInfluxDuration, parseRetention, planRange, readingsQuery, scoresQuery, whereClause } from './influx-query.js';

const DAY = 86_400_000;
const now = 1_800_000_000_000;
const base = { line: 'fab1', station: 'etch-01', from: now - DAY, to: now };

describe('InfluxQL builders', () => {
  it('quotes ids as string literals and times as ms integers', () => {
    expect(whereClause(base)).toBe(`WHERE "line" = 'fab1' AND "station" = 'etch-01' AND time >= ${now - DAY}ms AND time < ${now}ms`);
  });

  it.each([
    [`etch-01' OR station =~ /.*/ OR station = '`],
    [`etch-01"; DROP DATABASE "x`],
    ['/.*/'],
    ['etch 01'],
    ['etch-01\\'],
    [''],
    ['a'.repeat(65)],
  ])('rejects the station id %j before it reaches a query', (station) => {
    expect(() => readingsQuery('db', { ...base, station }, { rp: 'raw', bucketMs: undefined })).toThrow('invalid station id');
    expect(() => scoresQuery('db', { ...base, station }, { rp: 'raw', bucketMs: 60_000 })).toThrow('invalid station id');
    expect(() => anomaliesQuery('db', { station })).toThrow('invalid station id');
    expect(() => countQuery('db', { station, from: 0, to: 1 })).toThrow('invalid station id');
  });

  it('escapes the database name and rejects non-integer times and limits', () => {
    expect(countQuery('my"db', { from: 0, to: 1 })).toContain('FROM "my\\"db"."raw"."reading"');
    expect(() => whereClause({ ...base, from: 1.5 })).toThrow('epoch milliseconds');
    expect(() => whereClause({ ...base, to: Number.NaN })).toThrow('epoch milliseconds');
    expect(() => readingsQuery('db', { ...base, limit: 0 }, { rp: 'raw', bucketMs: undefined })).toThrow('limit');
    expect(() => readingsQuery('db', { ...base, limit: 2.5 }, { rp: 'raw', bucketMs: undefined })).toThrow('limit');
  });

  it('keeps the newest rows with ORDER BY time DESC LIMIT', () => {
    expect(readingsQuery('db', { ...base, limit: 5 }, { rp: 'raw', bucketMs: undefined })).toMatch(/ORDER BY time DESC LIMIT 5$/);
  });
});

describe('downsampling rule', () => {
  const raw30d = 30 * DAY;
  it('aggregates raw points for unbucketed, sub-minute or recent ranges', () => {
    expect(planRange(base, raw30d, now)).toEqual({ rp: 'raw', bucketMs: undefined });
    expect(planRange({ ...base, from: now - 40 * DAY, bucketMs: 10_000 }, raw30d, now)).toEqual({ rp: 'raw', bucketMs: 10_000 });
    expect(planRange({ ...base, bucketMs: 3_600_000 }, raw30d, now)).toEqual({ rp: 'raw', bucketMs: 3_600_000 });
  });

  it('reads the rollups when the bucket is a minute or more and the range starts beyond the raw policy', () => {
    expect(planRange({ ...base, from: now - 31 * DAY, bucketMs: 60_000 }, raw30d, now)).toEqual({ rp: 'rollup', bucketMs: 60_000 });
    // Rollup buckets are whole minutes: 150 s rounds to 3 min.
    expect(planRange({ ...base, from: now - 31 * DAY, bucketMs: 150_000 }, raw30d, now)).toEqual({ rp: 'rollup', bucketMs: 180_000 });
    expect(readingsQuery('db', base, { rp: 'rollup', bucketMs: 60_000 })).toContain('SELECT mean(/^mean_/), ');
    expect(readingsQuery('db', base, { rp: 'rollup', bucketMs: 60_000 })).toContain('"db"."rollup"."reading"');
  });
});

describe('retention durations', () => {
  it('parses config literals and SHOW RETENTION POLICIES output', () => {
    expect(parseRetention('30d')).toBe(30 * DAY);
    expect(parseRetention('4w')).toBe(28 * DAY);
    expect(() => parseRetention('30 days')).toThrow('retention');
    expect(() => parseRetention('5m')).toThrow('at least 1h');
    expect(parseInfluxDuration('720h0m0s')).toBe(30 * DAY);
    expect(parseInfluxDuration('0s')).toBe(0);
  });
});
