import type { RecordingEntry } from '@linewatch/recording';
import { SqliteStore, type RangeQuery, type ReadingPoint, type ReadingRow, type Store } from '@linewatch/store';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { StationPages } from './station-pages.js';
import { StoreRangeSource } from './store-source.js';
import { typeFromStationId } from './synthetic-meta.js';

const logger = pino({ level: 'silent' });

/** A store that behaves like the real ones at their limit: newest rows kept, the oldest silently cut. */
function fakeStore(points: ReadingPoint[]): Store & { queries: RangeQuery[] } {
  const queries: RangeQuery[] = [];
  const rows = (q: { line?: string | undefined; station?: string | undefined; from: number; to: number }) =>
    points.filter((p) => p.line === q.line && p.station === q.station && p.ts >= q.from && p.ts < q.to).sort((a, b) => a.ts - b.ts);
  const store = {
    kind: 'sqlite' as const,
    queries,
    async readings(q: RangeQuery): Promise<ReadingRow[]> {
      queries.push(q);
      const all = rows(q).map(({ ts, seq, values, context }) => ({ ts, seq, values, ...(context ? { context } : {}) }));
      return all.slice(Math.max(0, all.length - (q.limit ?? 10_000)));
    },
    async countReadings(q: { line?: string; station?: string; from: number; to: number }): Promise<number> {
      return rows(q).length;
    },
  };
  return store as unknown as Store & { queries: RangeQuery[] };
}

const T0 = 1_764_400_000_000;
const point = (station: string, ts: number, seq: number, values: Record<string, number> = { rf_power: seq }): ReadingPoint => ({ line: 'fab1', station, ts, seq, values });

async function drain(pages: StationPages): Promise<ReadingRow[]> {
  const out: ReadingRow[] = [];
  while (await pages.peek()) out.push(pages.take());
  return out;
}

async function collect(iterable: AsyncIterable<RecordingEntry>): Promise<RecordingEntry[]> {
  const out: RecordingEntry[] = [];
  for await (const e of iterable) out.push(e);
  return out;
}

describe('StationPages', () => {
  it('reads a range many pages long without losing or repeating a row, though the store cuts at its limit', async () => {
    // Uneven density: a quiet hour, then a dense burst, then quiet again.
    const points = [
      ...Array.from({ length: 60 }, (_, i) => point('etch-01', T0 + i * 60_000, i)),
      ...Array.from({ length: 20_000 }, (_, i) => point('etch-01', T0 + 3_600_000 + i * 5, 60 + i)),
      ...Array.from({ length: 60 }, (_, i) => point('etch-01', T0 + 3_800_000 + i * 60_000, 20_060 + i)),
    ];
    const store = fakeStore(points);
    const pages = new StationPages({ store, line: 'fab1', station: 'etch-01', from: T0, to: T0 + 8_000_000, pageSize: 1_000 });
    const rows = await drain(pages);
    expect(rows.map((r) => r.seq)).toEqual(points.map((p) => p.seq));
    // Every query asked for one row more than a page, to see a cut.
    expect(store.queries.every((q) => q.limit === 1_001)).toBe(true);
    expect(pages.queries).toBeLessThan(120);
  });

  it('fails clearly when one millisecond holds more rows than a page', async () => {
    const store = fakeStore(Array.from({ length: 5 }, (_, i) => point('etch-01', T0, i)));
    await expect(drain(new StationPages({ store, line: 'fab1', station: 'etch-01', from: T0, to: T0 + 10, pageSize: 3 }))).rejects.toThrow(/more than 3 readings at/);
  });
});

describe('StoreRangeSource', () => {
  it('merges stations in time order, each described by a synthesised meta first', async () => {
    const points = [
      ...Array.from({ length: 50 }, (_, i) => point('etch-01', T0 + i * 10, i, { rf_forward_power: 1000 + i, odd_gauge: 30 + i })),
      ...Array.from({ length: 50 }, (_, i) => point('cmp-02', T0 + 5 + i * 10, i, { downforce: i })),
    ];
    // A sensor that appears late re-sends the meta.
    points.push(point('cmp-02', T0 + 600, 50, { downforce: 1, slurry_flow: 2 }));
    const source = new StoreRangeSource({ store: fakeStore(points), line: 'fab1', stations: ['etch-01', 'cmp-02'], from: T0, to: T0 + 10_000, pageSize: 7 });
    const [segment] = await source.segments();
    const entries = await collect(segment!.read());
    expect(segment!.entries).toBe(101 + 2);
    expect(entries).toHaveLength(101 + 3);
    expect(entries.slice(0, 2).map((e) => [e.kind, e.station, e.at])).toEqual([['meta', 'etch-01', T0], ['meta', 'cmp-02', T0]]);
    const etchMeta = entries[0]!;
    // A sensor of the simulator's etch model gets its unit and range; one it does not know, the range seen.
    expect(etchMeta.kind === 'meta' && etchMeta.msg).toMatchObject({
      type: 'etch', order: 0, sensors: [{ name: 'rf_forward_power', unit: 'W', min: 0, max: 3000 }, { name: 'odd_gauge', unit: '', min: 30 }],
    });
    const telemetry = entries.filter((e) => e.kind === 'telemetry');
    expect(telemetry.map((e) => e.at)).toEqual([...telemetry.map((e) => e.at)].sort((a, b) => a - b));
    expect(telemetry).toHaveLength(101);
    const late = entries.at(-2)!;
    expect(late.kind === 'meta' && late.msg.sensors.map((s) => s.name)).toEqual(['downforce', 'slurry_flow']);
  });

  it('skips and counts a stored row that is not valid telemetry', async () => {
    const points = [point('etch-01', T0, 0), point('etch-01', T0 + 1, 1, {}), point('etch-01', T0 + 2, 2)];
    const source = new StoreRangeSource({ store: fakeStore(points), line: 'fab1', stations: ['etch-01'], from: T0, to: T0 + 10 });
    const [segment] = await source.segments();
    expect((await collect(segment!.read())).filter((e) => e.kind === 'telemetry')).toHaveLength(2);
    expect(source.skippedCount).toBe(1);
    expect(source.skipped[0]).toMatchObject({ station: 'etch-01', ts: T0 + 1, reason: expect.stringMatching(/at least one sensor/) });
  });

  it('reads a real SQLite store, page after page', async () => {
    const store = new SqliteStore({ path: ':memory:' }, logger);
    await store.init();
    const start = Date.now() - 3_600_000;
    const readings = Array.from({ length: 3_000 }, (_, i) => ({ ...point(i % 2 ? 'litho-01' : 'tool_x-07', start + i * 100, i >> 1), context: { recipe: 'R1', lot: 'L1' } }));
    await store.write({ readings, scores: [], anomalies: [] });
    const source = new StoreRangeSource({ store, line: 'fab1', stations: ['tool_x-07', 'litho-01'], from: start, to: start + 300_000, pageSize: 400 });
    const entries = await collect((await source.segments())[0]!.read());
    const telemetry = entries.flatMap((e) => (e.kind === 'telemetry' ? [{ station: e.station, ts: e.msg.ts, seq: e.msg.seq, context: e.msg.context }] : []));
    expect(telemetry).toEqual(readings.map((r) => ({ station: r.station, ts: r.ts, seq: r.seq, context: { recipe: 'R1', lot: 'L1' } })));
    const metas = entries.flatMap((e) => (e.kind === 'meta' ? [[e.msg.station, e.msg.type, e.msg.sensors.map((s) => s.name)]] : []));
    expect(metas).toEqual([['tool_x-07', 'tool_x', ['rf_power']], ['litho-01', 'litho', ['rf_power']]]);
    await store.close();
  });

  it('takes the station type from the id without its number', () => {
    expect(typeFromStationId('etch-01')).toBe('etch');
    expect(typeFromStationId('cvd_chamber-12')).toBe('cvd_chamber');
    expect(typeFromStationId('42')).toBe('42');
    expect(typeFromStationId('etch')).toBe('etch');
  });
});
