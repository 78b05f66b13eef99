import { describe, expect, it } from 'vitest';
import { growthVerdict, integrity, parseSoakArgs, slope, soakVerdict, warmupSeconds, type IntervalRow, type MemorySample } from './soak-stats.js';

/** RSS every 10 s for `minutes`: `f(tS)` plus a deterministic GC saw-tooth of ±`saw` MiB. */
function series(minutes: number, f: (tS: number) => number, saw = 0): MemorySample[] {
  return Array.from({ length: (minutes * 60) / 10 }, (_, i) => {
    const tS = (i + 1) * 10;
    return { tS, mib: f(tS) + (i % 3 === 0 ? saw : i % 3 === 1 ? -saw : 0) };
  });
}

const row = (tS: number, over: Partial<IntervalRow> = {}): IntervalRow => ({
  tS, publishedPerS: 1000, writtenPerS: 1000, scoredPerS: 1000, e2eP50Ms: 2, e2eP99Ms: 10, detectorRssMiB: 200, detectorHeapMiB: 80, apiRssMiB: 150,
  apiHeapMiB: 50, detectorLagP99Ms: 12, apiLagP99Ms: 11, loadLagP99Ms: 11, deadLetters: 0, dropped: 0, writeBuffer: 0, apiReadingsPerS: 50, ...over,
});

describe('parseSoakArgs', () => {
  it('defaults to the issue: 1,000/s over 20 stations for 10 min, a row every 10 s', () => {
    expect(parseSoakArgs([], {})).toEqual({ minutes: 10, intervalS: 10, rate: 1000, stations: 20, keep: false, outDir: 'test/artifacts/soak' });
  });
  it('takes SOAK_MINUTES and SOAK_INTERVAL_S, and flags over env', () => {
    expect(parseSoakArgs([], { SOAK_MINUTES: '30', SOAK_INTERVAL_S: '5' })).toMatchObject({ minutes: 30, intervalS: 5 });
    expect(parseSoakArgs(['--minutes', '2', '--keep'], { SOAK_MINUTES: '30' })).toMatchObject({ minutes: 2, keep: true });
  });
  it('names every bad value, refuses runs too short to judge and unknown flags', () => {
    expect(() => parseSoakArgs(['--minutes', 'x', '--stations', '2.5'], {})).toThrow(/--minutes must be a number .*got x.*--stations must be an integer/);
    expect(() => parseSoakArgs(['--minutes', '1', '--interval', '10'], {})).toThrow(/leaves 0 rows after the warm-up/);
    expect(parseSoakArgs(['--minutes', '2'], {})).toMatchObject({ minutes: 2, intervalS: 10 }); // 6 rows after a 60 s warm-up
    expect(() => parseSoakArgs(['--minute', '2'], {})).toThrow();
  });
});

describe('slope', () => {
  it('is the least-squares slope, and NaN without two distinct x', () => {
    expect(slope([0, 1, 2, 3], [1, 3, 5, 7])).toBeCloseTo(2);
    expect(slope([0, 1, 2, 3], [1, 2, 1, 2])).toBeCloseTo(0.2);
    expect(slope([1], [1])).toBeNaN();
    expect(slope([2, 2], [1, 5])).toBeNaN();
  });
});

describe('growthVerdict', () => {
  it('leaves out 20 % of the run as warm-up, at least 1 min and at most 10 min', () => {
    expect(warmupSeconds(120)).toBe(60);
    expect(warmupSeconds(600)).toBe(120);
    expect(warmupSeconds(24 * 3600)).toBe(600);
  });
  it('passes a flat process with a GC saw-tooth, and one that settles after a steep warm-up', () => {
    expect(growthVerdict(series(10, () => 200, 20), 600)).toMatchObject({ judged: true, grows: false });
    // Rises 100 MiB in its first 2 min (the warm-up), then only approaches its plateau.
    const settling = series(10, (t) => 300 - 100 * Math.exp(-t / 40), 5);
    expect(growthVerdict(settling, 600)).toMatchObject({ judged: true, grows: false });
  });
  it('fails a steady leak: trend over the limit and still rising at the end', () => {
    const v = growthVerdict(series(10, (t) => 200 + (t / 60) * 8, 10), 600); // 480 MiB/h
    expect(v.grows).toBe(true);
    expect(Math.abs(v.slopeMiBPerH - 480)).toBeLessThan(30); // the saw-tooth moves it a little
    expect(v.detail).toMatch(/limit 256: over.*margin 16: over/);
  });
  it('passes a slow drift that a day would call bounded (under 256 MiB/24h), even when the thirds differ', () => {
    // 6 MiB/h for 24 h, sampled every 10 min: the last third sits ~47 MiB over the middle one, yet the trend (144 MiB/24h) is within the limit.
    const day = Array.from({ length: 144 }, (_, i) => ({ tS: (i + 1) * 600, mib: 200 + ((i + 1) * 600 * 6) / 3600 }));
    expect(growthVerdict(day, 24 * 3600)).toMatchObject({ judged: true, grows: false });
  });
  it('fails the same run at 12 MiB/h (288 MiB/24h)', () => {
    const day = Array.from({ length: 144 }, (_, i) => ({ tS: (i + 1) * 600, mib: 200 + ((i + 1) * 600 * 12) / 3600 }));
    expect(growthVerdict(day, 24 * 3600)).toMatchObject({ judged: true, grows: true });
  });
  it('passes a one-off step in the middle that then stays flat (a cache filling once)', () => {
    const step = series(30, (t) => (t < 15 * 60 ? 200 : 260), 3);
    expect(growthVerdict(step, 1800).grows).toBe(false);
  });
  it('passes a trend that is only noise in a short run: within the margin between thirds', () => {
    const v = growthVerdict(series(2, (t) => 200 + t / 20, 2), 120); // +4 MiB over the judged 96 s: 180 MiB/h, but tiny
    expect(v).toMatchObject({ judged: true, grows: false });
    expect(v.detectableMiBPerH).toBeGreaterThan(500);
  });
  it('does not judge with too few samples after the warm-up', () => {
    expect(growthVerdict([{ tS: 50, mib: 1 }, { tS: 60, mib: 900 }], 60)).toMatchObject({ judged: false, grows: false });
  });
});

describe('integrity', () => {
  it('counts missing per station from distinct seq, and duplicates as count − distinct', () => {
    const sent = new Map([['a', 100], ['b', 100], ['c', 5]]);
    const stored = new Map([['a', { count: 100, distinct: 100 }], ['b', { count: 101, distinct: 98 }]]);
    expect(integrity(sent, stored)).toEqual({ sent: 205, stored: 201, distinct: 198, missing: 7, duplicates: 3 });
  });
});

describe('soakVerdict', () => {
  const ok = { sent: 10, stored: 10, distinct: 10, missing: 0, duplicates: 0 };
  const flat = growthVerdict(series(2, () => 200), 120);
  const rows = Array.from({ length: 12 }, (_, i) => row((i + 1) * 10));
  it('passes a run at the target with everything stored once', () => {
    expect(soakVerdict({ rate: 1000, rows, durationS: 120, memory: { detector: flat }, integrity: ok, failures: [] })).toEqual({ ok: true, reasons: [] });
  });
  it('fails on the last third falling under 95 % of the target, not on a slow start', () => {
    const slowStart = rows.map((r, i) => (i < 4 ? { ...r, writtenPerS: 300 } : r));
    expect(soakVerdict({ rate: 1000, rows: slowStart, durationS: 120, memory: {}, integrity: ok, failures: [] }).ok).toBe(true);
    const slowEnd = rows.map((r, i) => (i >= 8 ? { ...r, writtenPerS: 940 } : r));
    expect(soakVerdict({ rate: 1000, rows: slowEnd, durationS: 120, memory: {}, integrity: ok, failures: [] }).reasons).toEqual([
      'throughput: last-third median 940 readings/s written < 95 % of 1000/s',
    ]);
  });
  it('gives every reason: load short, memory, missing, duplicates and a dead child', () => {
    const leak = growthVerdict(series(10, (t) => 200 + t, 0), 600);
    const v = soakVerdict({
      rate: 1000, rows: rows.map((r) => ({ ...r, publishedPerS: 500, writtenPerS: 500 })), durationS: 120, memory: { detector: leak },
      integrity: { sent: 10, stored: 9, distinct: 8, missing: 2, duplicates: 1 }, failures: ['detector exited (1) during the run'],
    });
    expect(v.ok).toBe(false);
    expect(v.reasons.map((r) => r.split(':')[0])).toEqual(['detector exited (1) during the run', 'load generator', 'throughput', 'memory', 'integrity', 'integrity']);
  });
  it('fails a run whose memory could not be judged (RSS unreadable), rather than passing it unjudged', () => {
    const unread = growthVerdict(series(2, () => Number.NaN), 120);
    expect(soakVerdict({ rate: 1000, rows, durationS: 120, memory: { api: unread }, integrity: ok, failures: [] }).reasons).toEqual([
      'memory: api not judged: 0 samples after the 60 s warm-up, 6 needed',
    ]);
  });
  it('fails a run where nothing was sent, or where a row could not be read (NaN)', () => {
    expect(soakVerdict({ rate: 1000, rows, durationS: 120, memory: {}, integrity: { sent: 0, stored: 0, distinct: 0, missing: 0, duplicates: 0 }, failures: [] }).ok).toBe(false);
    const unread = rows.map((r) => ({ ...r, writtenPerS: Number.NaN }));
    expect(soakVerdict({ rate: 1000, rows: unread, durationS: 120, memory: {}, integrity: ok, failures: [] }).ok).toBe(false);
  });
});
