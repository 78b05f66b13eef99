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
  it('takes a snapshot in process order and the server clock offset', () => {
    const snap: LineSnapshot = {
      line: 'fab1',
      stations: [meta('b', 2), meta('a', 1)].map((m) => ({ meta: m, state: null, status: null, lastSeen: null })),
      anomalies: [],
      serverTime: 10_000,
      brokerConnected: true,
    };
    const s = reduce.snapshot(initialState(), snap, 9_000);
    expect(s.stations.map((v) => v.meta.station)).toEqual(['a', 'b']);
    expect(s.serverOffsetMs).toBe(1_000);
  });

  it('applies status to its station, adds new meta in order, and ignores status of unknown stations', () => {
    let s = reduce.meta(initialState(), meta('b', 2));
    s = reduce.meta(s, meta('a', 1));
    s = reduce.status(s, status('b', 'ALARM'));
    s = reduce.status(s, status('zzz', 'ALARM'));
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

  it('notifies listeners only on change', () => {
    const store = new LineStore();
    let calls = 0;
    store.subscribe(() => calls++);
    store.update((s) => reduce.connection(s, 'connected'));
    store.update((s) => s);
    expect(calls).toBe(1);
  });
});
