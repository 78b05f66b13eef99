import type { StationStatus, WaferVerdict } from '@linewatch/protocol';
import { describe, expect, it } from 'vitest';
import { ObservationFeed } from './observations.js';
import type { Observation } from './types.js';

const status = (health: StationStatus['health'], over: Partial<StationStatus> = {}): StationStatus => ({
  line: 'fab1', station: 'etch-01', health, since: 1, ts: 2, score: health === 'ALARM' ? 3 : 0.5, threshold: 1,
  modelVersion: 'etch@1', contributors: [], ...over,
});

function feed() {
  const seen: Observation[] = [];
  let now = 1_000;
  const f = new ObservationFeed({ emit: (o) => seen.push(o), now: () => now++ });
  const by = (source: string) => seen.filter((o) => o.source === source);
  return { f, seen, by };
}

describe('ObservationFeed', () => {
  it('gives one observation per source for every status, active only for its own health', () => {
    const { f, by } = feed();
    f.status(status('ALARM'));
    f.status(status('DATA_QUALITY'));
    f.status(status('OFFLINE'));
    f.status(status('OK'));
    expect(by('model').map((o) => o.active)).toEqual([true, false, false, false]);
    expect(by('data_quality').map((o) => [o.active, o.class])).toEqual([[false, 'data_quality'], [true, 'data_quality'], [false, 'data_quality'], [false, 'data_quality']]);
    expect(by('offline').map((o) => o.active)).toEqual([false, false, true, false]);
    expect(by('model')[0]).toMatchObject({ class: 'process', score: 3, threshold: 1, modelVersion: 'etch@1', replay: false, at: 1_000 });
  });

  it('takes the severity from the anomaly events of the current ALARM, escalating at once and resetting after it', () => {
    const { f, by } = feed();
    f.anomaly({ id: 'a', line: 'fab1', station: 'etch-01', ts: 2, seq: 1, score: 1.5, threshold: 1, t2: null, spe: null, modelVersion: 'm', severity: 'warning', contributors: [] });
    f.status(status('ALARM'));
    f.anomaly({ id: 'b', line: 'fab1', station: 'etch-01', ts: 3, seq: 2, score: 5, threshold: 1, t2: null, spe: null, modelVersion: 'm', severity: 'critical', contributors: [] });
    f.status(status('OK'));
    f.status(status('ALARM'));
    expect(by('model').map((o) => [o.active, o.severity])).toEqual([[true, 'warning'], [true, 'critical'], [false, 'warning'], [true, 'warning']]);
  });

  it("falls back to the anomaly's contributors when the ALARM status carries none, and forgets them after", () => {
    const { f, by } = feed();
    const contributors = [{ sensor: 'rf_power', value: 9, expected: 5, contribution: 0.8 }];
    f.anomaly({ id: 'a', line: 'fab1', station: 'etch-01', ts: 2, seq: 1, score: 1.5, threshold: 1, t2: null, spe: null, modelVersion: 'm', severity: 'warning', contributors });
    f.status(status('ALARM'));
    f.status(status('OK'));
    f.status(status('ALARM'));
    expect(by('model').map((o) => o.contributors)).toEqual([contributors, [], []]);
  });

  it('carries the equipment state and the replay mark, and says nothing for UNMODELLED', () => {
    const { f, seen, by } = feed();
    f.state({ line: 'fab1', station: 'etch-01', state: { state: 'ENGINEERING', since: 0 } });
    f.status(status('UNMODELLED'));
    expect(seen).toEqual([]);
    f.status(status('ALARM', { replay: true }));
    expect(by('model')[0]).toMatchObject({ equipmentState: 'ENGINEERING', replay: true });
  });
});

const verdict = (over: Partial<WaferVerdict> = {}): WaferVerdict => ({
  id: `fab1/etch-01/${over.wafer ?? 'W07'}/main_etch/100`, line: 'fab1', station: 'etch-01', wafer: 'W07', lot: 'L01', recipe: 'ETCH-AL-01',
  step: 'main_etch', start: 100, end: 160, samples: 60, verdict: 'fault', score: 1.6, threshold: 1, t2: 12, spe: 0.4,
  modelVersion: 'etch-wafer@2', baseline: 'b3',
  contributors: [{ sensor: 'rf_power', value: 1620, expected: 1500, contribution: 0.7, stat: 'mean' }], ...over,
});

describe('ObservationFeed: wafer verdicts', () => {
  it('gives one observation per verdict on the source of its step: fault active, ok clear, baselining none', () => {
    const { f, seen } = feed();
    f.wafer(verdict());
    f.wafer(verdict({ wafer: 'W08', verdict: 'ok', score: 0.3, contributors: [] }));
    f.wafer(verdict({ wafer: 'W09', verdict: 'baselining', score: 0, contributors: [] }));
    f.wafer(verdict({ wafer: 'W10', step: 'over_etch' }));
    expect(seen.map((o) => [o.source, o.active])).toEqual([['wafer/ETCH-AL-01/main_etch', true], ['wafer/ETCH-AL-01/main_etch', false], ['wafer/ETCH-AL-01/over_etch', true]]);
    expect(seen[0]).toMatchObject({
      line: 'fab1', station: 'etch-01', class: 'process', level: 'wafer', severity: 'warning', score: 1.6, threshold: 1,
      modelVersion: 'etch-wafer@2', replay: false, at: 1_000,
      contributors: [{ sensor: 'rf_power', stat: 'mean', value: 1620, expected: 1500 }],
      wafer: { verdictId: 'fab1/etch-01/W07/main_etch/100', wafer: 'W07', lot: 'L01', recipe: 'ETCH-AL-01', step: 'main_etch', start: 100, end: 160, baseline: 'b3' },
      lastWafer: { wafer: 'W07', step: 'main_etch', verdict: 'fault', end: 160 },
    });
  });

  it('is critical past twice the threshold, and carries a replay mark', () => {
    const { f, seen } = feed();
    f.wafer(verdict({ score: 2 }));
    f.wafer(verdict({ wafer: 'W08', score: 2.01, replay: true }));
    expect(seen.map((o) => [o.severity, o.replay])).toEqual([['warning', false], ['critical', true]]);
  });

  it('says PRODUCTIVE, the state the wafer ran in, even when the station is in STANDBY between wafers', () => {
    const { f, seen } = feed();
    f.state({ line: 'fab1', station: 'etch-01', state: { state: 'STANDBY', since: 0 } });
    f.wafer(verdict());
    expect(seen[0]?.equipmentState).toBe('PRODUCTIVE');
  });

  it('puts both verdicts side by side: the station status beside a wafer, the latest wafer beside the model', () => {
    const { f, by } = feed();
    f.status(status('ALARM', { lastWafer: { wafer: 'W06', step: 'main_etch', end: 90, verdict: 'ok', score: 0.2, threshold: 1 } }));
    expect(by('model')[0]?.lastWafer).toMatchObject({ wafer: 'W06', verdict: 'ok' });
    f.wafer(verdict());
    expect(by('wafer/ETCH-AL-01/main_etch')[0]?.lastSample).toEqual({ health: 'ALARM', score: 3, threshold: 1, ts: 2 });
    // The verdict is newer than what the status said; an older status does not take it back.
    f.status(status('ALARM', { lastWafer: { wafer: 'W06', step: 'main_etch', end: 90, verdict: 'ok', score: 0.2, threshold: 1 } }));
    expect(by('model').at(-1)?.lastWafer).toMatchObject({ wafer: 'W07', verdict: 'fault' });
  });

  it('keeps wafer-level anomalies out of the model alert, and SPC rules and broken correlations in it', () => {
    const { f, by } = feed();
    const base = { line: 'fab1', station: 'etch-01', seq: 1, threshold: 1, t2: null, spe: null, modelVersion: 'm' };
    f.status(status('ALARM'));
    f.anomaly({ ...base, id: 'w', ts: 2, score: 9, severity: 'critical', level: 'wafer', contributors: [{ sensor: 'step', value: 90, expected: 60, contribution: 1, stat: 'duration' }] });
    expect(by('model')).toHaveLength(1);
    const rules = [{ rule: 'WE2' as const, sensor: 'rf_power', side: 'high' as const, value: 1600, center: 1500, sigma: 30 }];
    const brokenCorrelations = [{ sensors: ['rf_power', 'chamber_pressure'] as [string, string], correlation: 0.93, z: [2.5, -0.1] as [number, number] }];
    f.anomaly({ ...base, id: 's', ts: 3, score: 1.4, severity: 'warning', contributors: [], rules, brokenCorrelations });
    expect(by('model').map((o) => [o.severity, o.rules, o.brokenCorrelations])).toEqual([
      ['warning', undefined, undefined],
      ['warning', rules, brokenCorrelations],
    ]);
    f.status(status('OK'));
    expect(by('model').at(-1)).toMatchObject({ active: false });
    expect(by('model').at(-1)?.rules).toBeUndefined();
  });
});

describe('ObservationFeed: a detector\'s own health', () => {
  const health = (state: 'ok' | 'degraded' | 'offline', droppedJournalFull = 0) => ({
    service: 'detector' as const, instance: 'linewatch-detector-0', line: 'fab1', state, ts: 5,
    storage: { state: state === 'degraded' ? ('degraded' as const) : ('ok' as const), failing: state === 'degraded', buffered: 0, journalBytes: 0, journalPoints: 0, droppedJournalFull },
  });

  it('raises detector/offline (critical) and detector/storage (warning) on the detector as the station', () => {
    const { f, by } = feed();
    f.service('fab1', health('ok'));
    f.service('fab1', health('degraded'));
    f.service('fab1', health('offline'));
    f.service('fab1', health('ok'));
    expect(by('detector/offline').map((o) => [o.active, o.severity])).toEqual([[false, 'critical'], [false, 'critical'], [true, 'critical'], [false, 'critical']]);
    // Offline says nothing new about storage: that alert is left as it was.
    expect(by('detector/storage').map((o) => [o.active, o.severity])).toEqual([[false, 'warning'], [true, 'warning'], [false, 'warning']]);
    expect(by('detector/storage')[1]).toMatchObject({ line: 'fab1', station: 'linewatch-detector-0', class: 'data_quality', replay: false, contributors: [] });
  });

  it('is critical once points are being dropped, and makes any instance id a safe station id', () => {
    const { f, by } = feed();
    f.service('fab1', { ...health('degraded', 12), instance: '_det/0', storage: { ...health('degraded', 12).storage, dropping: true } });
    expect(by('detector/storage')[0]).toMatchObject({ active: true, severity: 'critical', station: 'd_det_0' });
  });
});
