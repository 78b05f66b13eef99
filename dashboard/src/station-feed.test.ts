import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ReadingSample, StationHistory, StationMeta } from '@linewatch/protocol';
import type { ChartMarks } from './chart-marks.js';
import { SeriesBuffer } from './series-buffer.js';
import { StationFeed, type ChartSink, type FeedInput } from './station-feed.js';
import { LIVE } from './time-window.js';

const META: StationMeta = { line: 'fab1', station: 'etch-01', type: 'etch', name: 'Etch', order: 0, sensors: [{ name: 'rf', unit: 'W', min: 0, max: 1 }] };
const T0 = 1_800_000_000_000;

/** The charts as the feed sees them, keeping readings in a real SeriesBuffer (which refuses what is not newer). */
class FakeCharts implements ChartSink {
  readings = new SeriesBuffer(['rf'], 100_000, 60_000);
  scores: number[] = [];
  builds = 0;
  marks: ChartMarks | null = null;
  build(): void {
    this.builds++;
  }
  destroy(): void {}
  clear(): void {
    this.readings.clear();
    this.scores = [];
  }
  appendReadings(readings: readonly ReadingSample[]): void {
    for (const r of readings) this.readings.append(r.ts, (n) => r.values[n]);
  }
  appendScore(ts: number): void {
    if (ts > (this.scores.at(-1) ?? -Infinity)) this.scores.push(ts);
  }
  setMarks(marks: ChartMarks): void {
    this.marks = marks;
  }
  setRange(): void {}
  redraw(): void {}
}

const reading = (ts: number): ReadingSample => ({ ts, seq: ts, values: { rf: 1 } });
const history = (readings: number[], patch: Partial<StationHistory> = {}): StationHistory => ({
  line: 'fab1', station: 'etch-01', from: 0, to: 0, bucketMs: null, readings: readings.map(reading), scores: [], states: [], anomalies: [], alerts: [], ...patch,
});
const range = (from: number, to: number, step = 100) => Array.from({ length: (to - from) / step + 1 }, (_, i) => from + i * step);

interface Pending {
  from: number;
  to: number;
  resolve: (h: StationHistory) => void;
  reject: (e: Error) => void;
  signal: AbortSignal | undefined;
}

function setup() {
  const charts = new FakeCharts();
  const fetches: Pending[] = [];
  let now = T0;
  const feed = new StationFeed(
    charts,
    () => undefined,
    (_line, _station, from, to, signal) => new Promise<StationHistory>((resolve, reject) => fetches.push({ from, to, resolve, reject, signal })),
    () => now,
  );
  const input = (patch: Partial<FeedInput> = {}): FeedInput => ({ line: 'fab1', station: 'etch-01', meta: META, window: LIVE, state: null, liveAnomalies: [], alerts: [], chosen: null, now, ...patch });
  return { charts, fetches, feed, input, tick: (ms: number) => (now += ms), now: () => now };
}

describe('StationFeed', () => {
  beforeEach(() => vi.stubGlobal('requestAnimationFrame', (cb: () => void) => (cb(), 1)));
  afterEach(() => vi.unstubAllGlobals());

  it('joins the history and the live readings without a hole or a duplicate, reading again once the store caught up', async () => {
    const { charts, fetches, feed, input, tick } = setup();
    feed.show(input());
    expect(fetches).toHaveLength(1);
    // Live readings arrive while the history loads; the store is 300 ms behind them.
    feed.readings({ line: 'fab1', station: 'etch-01', readings: range(T0 - 200, T0 + 500).map(reading) });
    fetches[0]?.resolve(history(range(T0 - 5_000, T0 - 600)));
    await Promise.resolve();
    expect(charts.readings.xs.at(-1)).toBe(T0 + 500);
    // The first read left a hole (T0-500 .. T0-300): the settling read fills it.
    tick(2_100);
    feed.readings({ line: 'fab1', station: 'etch-01', readings: range(T0 + 600, T0 + 2_000).map(reading) });
    feed.show(input({ now: T0 + 2_100 }));
    expect(fetches).toHaveLength(2);
    fetches[1]?.resolve(history(range(T0 - 5_000, T0 + 1_500)));
    await Promise.resolve();
    expect(charts.readings.xs).toEqual(range(T0 - 5_000, T0 + 2_000));
  });

  it('drops a history answer that a newer request replaced, and aborts its request', async () => {
    const { charts, fetches, feed, input } = setup();
    feed.show(input());
    feed.show(input({ window: { kind: 'last', span: '1h' } }));
    expect(fetches[0]?.signal?.aborted).toBe(true);
    fetches[1]?.resolve(history([T0 - 10, T0 - 5]));
    fetches[0]?.resolve(history([T0 - 100_000]));
    await Promise.resolve();
    expect(charts.readings.xs).toEqual([T0 - 10, T0 - 5]);
    expect(feed.load).toEqual({ kind: 'loaded', bucketMs: null });
  });

  it('after a failed read draws the live readings, says so, and tries again after 5 s, then 10 s', async () => {
    const { charts, fetches, feed, input, tick } = setup();
    feed.show(input());
    fetches[0]?.reject(new Error('the API answered 503'));
    await Promise.resolve();
    await Promise.resolve();
    expect(feed.load).toMatchObject({ kind: 'failed', message: 'the API answered 503', retryAt: T0 + 5_000 });
    feed.readings({ line: 'fab1', station: 'etch-01', readings: [reading(T0 + 1)] });
    expect(charts.readings.xs).toEqual([T0 + 1]);
    tick(4_000);
    feed.show(input({ now: T0 + 4_000 }));
    expect(fetches).toHaveLength(1);
    tick(1_000);
    feed.show(input({ now: T0 + 5_000 }));
    expect(fetches).toHaveLength(2);
    fetches[1]?.reject(new Error('again'));
    await Promise.resolve();
    await Promise.resolve();
    expect(feed.load).toMatchObject({ kind: 'failed', retryAt: T0 + 15_000 });
  });

  it('reads the window again on a reconnect, and ignores readings of other stations', async () => {
    const { charts, fetches, feed, input } = setup();
    feed.show(input());
    fetches[0]?.resolve(history([T0 - 10]));
    await Promise.resolve();
    feed.readings({ line: 'fab1', station: 'cmp-01', readings: [reading(T0)] });
    expect(charts.readings.xs).toEqual([T0 - 10]);
    feed.catchUp(T0 + 60_000);
    expect(fetches.at(-1)).toMatchObject({ from: T0 + 60_000 - 5 * 60_000, to: T0 + 60_000 });
    expect(charts.builds).toBe(1);
  });

  it('keeps a bounded minute of live readings for the join', () => {
    const { feed, input } = setup();
    feed.show(input());
    // A minute and more at 1 kHz while the history never answers.
    for (let s = 0; s < 90; s++) feed.readings({ line: 'fab1', station: 'etch-01', readings: range(T0 - 90_000 + s * 1_000, T0 - 90_000 + s * 1_000 + 999, 1).map(reading) });
    const kept = (feed as unknown as { recentReadings: ReadingSample[] }).recentReadings;
    expect(kept.length).toBeLessThanOrEqual(20_000);
    expect(kept.at(-1)?.ts).toBe(T0 - 1);
  });
});
