import { describe, expect, it } from 'vitest';
import type { Anomaly, LineSnapshot, StationMeta, StationStatus } from '@linewatch/protocol';
import { LineStore, initialState, reduce } from './line-store.js';

const meta = (station: string, order: number): StationMeta => ({
  line: 'fab1',
  station,
  type: 'etch',
  name: station,
  order,
  sensors: [{ name: 'rf_power', unit: 'W', min: 0, max: 1 }],
});
const status = (station: string, health: StationStatus['health']): StationStatus => ({
  line: 'fab1',
  station,
  health,
  since: 0,
  ts: 5,
  score: 1,
  threshold: 1,
  modelVersion: 'm',
  contributors: [],
});
const anomaly = (id: string, ts: number): Anomaly => ({
  id,
  line: 'fab1',
  station: 'a',
  ts,
  seq: 0,
  score: 2,
  threshold: 1,
  t2: 1,
  spe: 1,
  modelVersion: 'm',
  severity: 'warning',
  contributors: [],
});

describe('line-store reducers', () => {
  it('applies a batch of statuses in one change, leaving other lines’ and unknown stations’ out', () => {
    let s = reduce.meta(initialState(), meta('a', 0));
    s = reduce.meta(s, meta('b', 1));
    const before = s;
    s = reduce.statuses(s, [status('a', 'ALARM'), status('b', 'OK'), status('ghost', 'OK')]);
    expect(s.stations.map((v) => [v.meta.station, v.status?.health, v.lastSeen])).toEqual([['a', 'ALARM', 5], ['b', 'OK', 5]]);
    s = { ...s, line: 'fab1' };
    expect(reduce.statuses(s, [{ ...status('a', 'OK'), line: 'fab2' }])).toBe(s);
    expect(before.stations.every((v) => v.status === null)).toBe(true);
  });

  it('takes a snapshot in process order and the server clock offset', () => {
    const snap: LineSnapshot = {
      line: 'fab1',
      stations: [meta('b', 2), meta('a', 1)].map((m) => ({ meta: m, state: null, status: null, lastSeen: null })),
      anomalies: [],
      wafers: [],
      serverTime: 10_000,
      brokerConnected: true,
      replay: { status: { state: 'idle', line: 'fab1-replay', run: null }, stations: [], anomalies: [], wafers: [] },
    };
    const s = reduce.snapshot(initialState(), snap, 9_000);
    expect(s.stations.map((v) => v.meta.station)).toEqual(['a', 'b']);
    expect(s.serverOffsetMs).toBe(1_000);
  });

  it('applies status to its station, adds new meta in order, and ignores status of unknown stations', () => {
    let s = reduce.meta(initialState(), meta('b', 2));
    s = reduce.meta(s, meta('a', 1));
    s = reduce.statuses(s, [status('b', 'ALARM')]);
    s = reduce.statuses(s, [status('zzz', 'ALARM')]);
    expect(s.stations.map((v) => [v.meta.station, v.status?.health ?? null, v.lastSeen])).toEqual([
      ['a', null, null],
      ['b', 'ALARM', 5],
    ]);
  });

  it('keeps anomalies newest first without duplicates', () => {
    let s = reduce.anomaly(initialState(), anomaly('x', 1));
    s = reduce.anomaly(s, anomaly('y', 3));
    s = reduce.anomaly(s, anomaly('x', 1));
    expect(s.anomalies.map((a) => a.id)).toEqual(['y', 'x']);
  });

  it('drops live events of any other line, so replayed data cannot reach the live tiles', () => {
    let s = reduce.meta({ ...initialState(), line: 'fab1' }, meta('a', 1));
    const other = { ...status('a', 'ALARM'), line: 'fab1-replay' };
    expect(reduce.statuses(s, [other])).toBe(s);
    expect(reduce.meta(s, { ...meta('b', 2), line: 'fab1-replay' })).toBe(s);
    expect(reduce.anomaly(s, { ...anomaly('z', 1), line: 'fab1-replay' })).toBe(s);
    expect(reduce.state(s, 'a', { state: 'PRODUCTIVE', since: 0 }, 'fab1-replay')).toBe(s);
    s = reduce.statuses(s, [status('a', 'WARN')]);
    expect(s.stations[0]?.status?.health).toBe('WARN');
  });

  it('keeps the replay line apart: its own stations, anomalies and status, cleared by a reset', () => {
    const line = 'fab1-replay';
    let s = initialState();
    s = reduce.replayStatus(s, { state: 'playing', line, run: null });
    s = reduce.replayLine(s, { kind: 'meta', line, meta: { ...meta('b', 2), line } });
    s = reduce.replayLine(s, { kind: 'meta', line, meta: { ...meta('a', 1), line } });
    s = reduce.replayLine(s, { kind: 'statuses', line, statuses: [{ ...status('a', 'ALARM'), line }] });
    s = reduce.replayLine(s, { kind: 'state', line, station: 'b', state: { state: 'STANDBY', since: 0, replay: true } });
    s = reduce.replayLine(s, { kind: 'anomaly', line, anomaly: { ...anomaly('r1', 4), line } });
    // An event for some third line is not this replay's.
    expect(reduce.replayLine(s, { kind: 'reset', line: 'elsewhere' })).toBe(s);
    expect(s.replay.stations.map((v) => [v.meta.station, v.status?.health ?? null, v.state?.state ?? null])).toEqual([
      ['a', 'ALARM', null],
      ['b', null, 'STANDBY'],
    ]);
    expect(s.replay.anomalies.map((a) => a.id)).toEqual(['r1']);
    expect(s.stations).toEqual([]);
    expect(s.anomalies).toEqual([]);
    s = reduce.replayLine(s, { kind: 'reset', line });
    expect(s.replay.stations).toEqual([]);
    expect(s.replay.anomalies).toEqual([]);
    expect(reduce.view(s, 'replay').view).toBe('replay');
  });

  it('notifies listeners only on change', () => {
    const store = new LineStore();
    let calls = 0;
    store.subscribe(() => calls++);
    store.update((s) => reduce.connection(s, 'connected'));
    store.update((s) => s);
    expect(calls).toBe(1);
  });
});
