import { describe, expect, it } from 'vitest';
import type { AlertView, Anomaly, StationHistory } from '@linewatch/protocol';
import { chartMarks, mergeAlertLines, mergeAnomalies, mergeStates } from './station-marks.js';

const anomaly = (id: string, ts: number, station = 'etch-01', severity: 'warning' | 'critical' = 'critical'): Anomaly => ({
  id, line: 'fab1', station, ts, seq: 1, score: 3, threshold: 1, t2: null, spe: null, modelVersion: 'v1', severity, contributors: [],
});

const alert = (over: Partial<AlertView>): AlertView => ({
  id: 'a1', line: 'fab1', station: 'etch-01', source: 'model', class: 'process', state: 'firing', severity: 'critical',
  startedAt: 1_000, firingAt: 2_000, resolvedAt: null, flapping: false, muted: false, ack: null,
  score: 3, threshold: 1, modelVersion: 'v1', contributors: [], equipmentState: 'PRODUCTIVE', replay: false, ...over,
});

describe('station chart marks', () => {
  it('merges history and live anomalies of the station, once each, newest first', () => {
    const merged = mergeAnomalies([anomaly('x', 1), anomaly('y', 5)], [anomaly('y', 5), anomaly('z', 9), anomaly('o', 7, 'cmp-01')], 'etch-01');
    expect(merged.map((a) => a.id)).toEqual(['z', 'y', 'x']);
  });

  it('draws firing, acknowledgement and resolution of the station’s alerts, not pending and not other stations', () => {
    const lines = mergeAlertLines(
      [{ alertId: 'a0', at: 500, from: null, to: 'pending', severity: 'critical', source: 'model', reason: '' }, { alertId: 'a0', at: 600, from: 'pending', to: 'firing', severity: 'critical', source: 'model', reason: '' }],
      [alert({ ack: { by: 'kim', at: 3_000, comment: '' }, resolvedAt: 4_000 }), alert({ id: 'b', station: 'cmp-01', firingAt: 2_500 })],
      'fab1',
      'etch-01',
    );
    expect(lines).toEqual([{ at: 600, to: 'firing' }, { at: 2_000, to: 'firing' }, { at: 3_000, to: 'acknowledged' }, { at: 4_000, to: 'resolved' }]);
  });

  it('adds the current state to the history’s state changes without a duplicate', () => {
    const states = mergeStates([{ ts: 10, state: 'STANDBY' }, { ts: 20, state: 'PRODUCTIVE' }], { state: 'PRODUCTIVE', since: 20 });
    expect(states).toEqual([{ ts: 10, state: 'STANDBY' }, { ts: 20, state: 'PRODUCTIVE' }]);
    expect(mergeStates([], { state: 'SCHEDULED_DOWN', since: 30 })).toEqual([{ ts: 30, state: 'SCHEDULED_DOWN' }]);
  });

  it('turns states into spans running to the end of the range', () => {
    const history: StationHistory = {
      line: 'fab1', station: 'etch-01', from: 0, to: 100, bucketMs: null, readings: [], scores: [],
      states: [{ ts: 0, state: 'STANDBY' }, { ts: 40, state: 'PRODUCTIVE' }], anomalies: [anomaly('w', 50, 'etch-01', 'warning')], alerts: [],
    };
    const { marks } = chartMarks({ history, liveAnomalies: [], alerts: [], state: null, line: 'fab1', station: 'etch-01', end: 100, chosen: 'w' });
    expect(marks.states).toEqual([{ from: 0, to: 40, state: 'STANDBY' }, { from: 40, to: 100, state: 'PRODUCTIVE' }]);
    expect(marks.anomalies).toEqual([{ id: 'w', ts: 50, critical: false, wafer: false }]);
    expect(marks.chosen).toBe('w');
  });
});
