import { describe, expect, it } from 'vitest';
import { BucketParamSchema, DEFAULT_SPAN_MS, MAX_POINTS, MAX_TIME_MS, TimeParamSchema, resolveTimeRange } from './time-range.js';

const NOW = Date.parse('2026-11-29T12:00:00Z');

describe('time params', () => {
  it('reads epoch ms and ISO times alike', () => {
    expect(TimeParamSchema.parse('1795953600000')).toBe(NOW);
    expect(TimeParamSchema.parse('2026-11-29T12:00:00Z')).toBe(NOW);
    expect(TimeParamSchema.safeParse('yesterday').success).toBe(false);
  });

  it('refuses times past what InfluxDB can hold, so they are a 400 and not a store failure', () => {
    expect(TimeParamSchema.parse(String(MAX_TIME_MS))).toBe(MAX_TIME_MS);
    expect(TimeParamSchema.safeParse('9223372036855').error?.issues[0]?.message).toMatch(/latest time the store holds/);
    expect(TimeParamSchema.safeParse('+275760-09-13T00:00:00Z').success).toBe(false);
  });

  it('reads bucket durations and refuses sub-second ones', () => {
    expect(BucketParamSchema.parse('10s')).toBe(10_000);
    expect(BucketParamSchema.parse('5m')).toBe(300_000);
    expect(BucketParamSchema.parse('60000')).toBe(60_000);
    expect(BucketParamSchema.safeParse('10ms').success).toBe(false);
    expect(BucketParamSchema.safeParse('1x').success).toBe(false);
    expect(BucketParamSchema.parse('7d')).toBe(7 * 86_400_000);
    expect(BucketParamSchema.safeParse('999999999d').success).toBe(false);
  });
});

describe('resolveTimeRange', () => {
  it('defaults to the last 15 minutes, raw', () => {
    expect(resolveTimeRange({}, NOW)).toEqual({ from: NOW - DEFAULT_SPAN_MS, to: NOW, bucketMs: undefined });
  });

  it('rejects reversed and too long ranges', () => {
    expect(resolveTimeRange({ from: NOW, to: NOW - 1 }, NOW)).toMatch(/after/);
    expect(resolveTimeRange({ from: NOW - 30 * 86_400_000, to: NOW }, NOW)).toMatch(/too long/);
  });

  it('buckets long ranges so at most MAX_POINTS come back', () => {
    const r = resolveTimeRange({ from: NOW - 86_400_000, to: NOW }, NOW);
    if (typeof r === 'string') throw new Error(r);
    expect(r.bucketMs).toBeDefined();
    expect(86_400_000 / (r.bucketMs ?? 1)).toBeLessThanOrEqual(MAX_POINTS);
  });

  it('refuses a bucket that would return too many points', () => {
    expect(resolveTimeRange({ from: NOW - 86_400_000, to: NOW, bucketMs: 1_000 }, NOW)).toMatch(/bucket too small/);
  });
});
