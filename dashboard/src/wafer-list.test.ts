import { describe, expect, it } from 'vitest';
import type { StationView, WaferVerdict, WaferVerdictSummary } from '@linewatch/protocol';
import { alertLevel, contributorTexts, levelText, ruleTexts } from './alert-list.js';
import { initialState, reduce } from './line-store.js';
import { parseWafers } from './rebaseline.js';
import { fragmentWithStation, stationFromFragment } from './station-link.js';
import { MAX_WAFERS_PER_STATION, VERDICT_LABEL, indicatorText, latestWafer, qualityIssueText, ruleText, stationWafers, topIndicator, waferList } from './wafer-list.js';
import { inKorean } from './testing/in-korean.js';

const verdict = (station: string, wafer: string, end: number, over: Partial<WaferVerdict> = {}): WaferVerdict => ({
  id: `fab1/${station}/${wafer}/main_etch/${end}`, line: 'fab1', station, wafer, step: 'main_etch', start: end - 60, end, samples: 60,
  verdict: 'fault', score: 1.7, threshold: 1, t2: null, spe: null, modelVersion: 'w@1', baseline: 'b1',
  contributors: [
    { sensor: 'step', value: 75, expected: 60, contribution: 0.2, stat: 'duration' },
    { sensor: 'rf_power', value: 1620, expected: 1500, contribution: 0.6, stat: 'mean' },
  ],
  ...over,
});

const view = (station: string, lastWafer?: WaferVerdictSummary): StationView => ({
  meta: { line: 'fab1', station, type: 'etch', name: station, order: 0, sensors: [{ name: 'rf_power', unit: 'W', min: 0, max: 1 }] },
  state: null,
  status: { line: 'fab1', station, health: 'OK', since: 0, ts: 1, score: 0.2, threshold: 1, modelVersion: 'm', contributors: [], ...(lastWafer ? { lastWafer } : {}) },
  lastSeen: 1,
});

describe('wafer verdicts on the page', () => {
  it('keeps them newest first, once each, and a bounded number per station', () => {
    let list = waferList.fromSnapshot([verdict('etch-01', 'W1', 100), verdict('etch-01', 'W3', 300)]);
    list = waferList.add(list, verdict('etch-01', 'W2', 200));
    expect(waferList.add(list, verdict('etch-01', 'W2', 200))).toBe(list);
    expect(list.map((v) => v.wafer)).toEqual(['W3', 'W2', 'W1']);
    for (let i = 0; i < MAX_WAFERS_PER_STATION + 5; i++) list = waferList.add(list, verdict('dep-01', `D${i}`, 1_000 + i));
    expect(stationWafers(list, 'dep-01', 1_000)).toHaveLength(MAX_WAFERS_PER_STATION);
    expect(stationWafers(list, 'etch-01')).toHaveLength(3);
    expect(stationWafers(list, 'dep-01', 2).map((v) => v.wafer)).toEqual([`D${MAX_WAFERS_PER_STATION + 4}`, `D${MAX_WAFERS_PER_STATION + 3}`]);
  });

  it('gives a tile the newer of its status’s last wafer and the latest verdict heard', () => {
    const told = { wafer: 'W9', step: 'main_etch', end: 900, verdict: 'ok' as const, score: 0.2, threshold: 1 };
    expect(latestWafer(view('etch-01', told), [verdict('etch-01', 'W1', 100)])).toEqual(told);
    expect(latestWafer(view('etch-01', told), [verdict('etch-01', 'W10', 1_000)])).toMatchObject({ wafer: 'W10', verdict: 'fault' });
    expect(latestWafer(view('etch-01'), [verdict('dep-01', 'W10', 1_000)])).toBeNull();
  });

  it('says indicators, rules, pairs and data-quality issues plainly', () => {
    const top = topIndicator(verdict('etch-01', 'W1', 100));
    expect(top && indicatorText(top)).toBe('rf_power.mean 1620 (1500)');
    expect(topIndicator(verdict('etch-01', 'W1', 100, { contributors: [] }))).toBeNull();
    expect(ruleText({ rule: 'WE4', sensor: 'chamber_pressure', side: 'low', value: 30, center: 35, sigma: 1 })).toBe('WE4 chamber_pressure ▼');
    const issue = { kind: 'out_of_range' as const, sensor: 'rf_power', since: Date.UTC(2025, 0, 1), detail: 'above 3000 W' };
    expect(qualityIssueText(issue, issue.since + 180_000)).toMatch(/^OUT OF RANGE · rf_power · above 3000 W · since \d\d:\d\d:\d\d \(3 min\)$/);
    expect(qualityIssueText({ ...issue, sensor: undefined, kind: 'seq_gap' }, null)).toMatch(/^SEQ GAP · whole station · above 3000 W · since \d\d:\d\d:\d\d$/);
  });

  it('reduces live verdicts of its line only, and the replay line’s apart, cleared by a reset', () => {
    let s = reduce.snapshot(initialState(), {
      line: 'fab1', stations: [], anomalies: [], wafers: [verdict('etch-01', 'W1', 100)], serverTime: 0, brokerConnected: true,
      replay: { status: { state: 'idle', line: 'fab1-replay', run: null }, stations: [], anomalies: [], wafers: [] },
    }, 0);
    s = reduce.wafer(s, verdict('etch-01', 'W2', 200));
    expect(reduce.wafer(s, verdict('etch-01', 'X', 300, { line: 'other' }))).toBe(s);
    s = reduce.replayLine(s, { kind: 'wafer', line: 'fab1-replay', verdict: verdict('etch-01', 'R1', 50, { line: 'fab1-replay' }) });
    expect(s.wafers.map((v) => v.wafer)).toEqual(['W2', 'W1']);
    expect(s.replay.wafers.map((v) => v.wafer)).toEqual(['R1']);
    expect(reduce.replayLine(s, { kind: 'reset', line: 'fab1-replay' }).replay.wafers).toEqual([]);
    const open = reduce.select(s, { line: 'fab1', station: 'etch-01' });
    expect(reduce.select(open, { line: 'fab1', station: 'etch-01' })).toBe(open);
    expect(reduce.select(open, null).selected).toBeNull();
  });
});

describe('station links and the re-baseline input', () => {
  it('reads and writes the station in the URL fragment, as webhook links carry it, keeping other parts', () => {
    expect(stationFromFragment('#station=fab1%2Fetch-01')).toEqual({ line: 'fab1', station: 'etch-01' });
    expect(stationFromFragment('#x=1&station=fab1%2Fetch-01')).toEqual({ line: 'fab1', station: 'etch-01' });
    for (const bad of ['', '#station=', '#station=fab1', '#station=%2Fetch', '#station=%E0%A4%A']) expect(stationFromFragment(bad)).toBeNull();
    expect(fragmentWithStation('#x=1&station=a%2Fb', { line: 'fab1', station: 'etch-01' })).toBe('x=1&station=fab1%2Fetch-01');
    expect(fragmentWithStation('#station=a%2Fb', null)).toBe('');
  });

  it('takes 1 to 50 whole wafers', () => {
    expect(parseWafers(' 7 ')).toBe(7);
    for (const bad of ['', '0', '51', '2.5', 'five']) expect(parseWafers(bad)).toMatch(/whole number from 1 to 50/);
  });
});

describe('alert rows: level, wafer and rules', () => {
  const base = {
    id: 'fab1/etch-01/wafer/main_etch/1', line: 'fab1', station: 'etch-01', source: 'wafer/main_etch', class: 'process' as const, state: 'firing' as const,
    severity: 'warning' as const, startedAt: 1, firingAt: 1, resolvedAt: null, flapping: false, muted: false, ack: null, score: 1.7, threshold: 1,
    modelVersion: 'w@1', equipmentState: 'PRODUCTIVE' as const, replay: false,
    contributors: [{ sensor: 'rf_power', value: 1620, expected: 1500, contribution: 0.6, stat: 'mean' as const }],
  };

  it('shows a wafer alert’s wafer and the sample-wise verdict beside it, and its indicators with their stat', () => {
    const wafer = { ...base, level: 'wafer' as const, lastSample: { health: 'OK' as const, score: 0.42, threshold: 1, ts: 1 },
      wafer: { verdictId: 'v', wafer: 'W07', lot: 'L0001', recipe: null, step: 'main_etch', start: 0, end: 1, baseline: 'b1' } };
    expect(alertLevel(wafer)).toBe('wafer');
    expect(levelText(wafer)).toBe('wafer W07 · lot L0001 · main etch · sample-wise OK 0.42 / 1');
    expect(contributorTexts(wafer)).toEqual(['rf_power.mean 1620 vs 1500']);
  });

  it('shows a sample alert’s latest wafer, SPC rules and broken correlations; an old alert reads as sample', () => {
    const sample = { ...base, source: 'model', contributors: [],
      lastWafer: { wafer: 'W07', step: 'main_etch', end: 1, verdict: 'fault' as const, score: 3, threshold: 1 },
      rules: [{ rule: 'WE1' as const, sensor: 'rf_power', side: 'high' as const, value: 2, center: 1, sigma: 0.1 }],
      brokenCorrelations: [{ sensors: ['rf_power', 'chamber_pressure'] as [string, string], correlation: 0.9, z: [3, 0] as [number, number] }] };
    expect(alertLevel(sample)).toBe('sample');
    expect(levelText(sample)).toBe('latest wafer W07 · main etch ✖ FAULT');
    expect(ruleTexts(sample)).toBe('rules WE1 rf_power ▲ · broken rf_power ⇄ chamber_pressure');
    expect(ruleTexts(base)).toBe('');
    expect(levelText(base)).toBe('');
  });
});


describe('wafer, quality and re-baseline texts in Korean', () => {
  it('says verdicts, data-quality issues and the wafer-count error in Korean, keeping sensor names and the detector’s detail', () => {
    const issue = { kind: 'out_of_range' as const, sensor: 'rf_power', since: Date.UTC(2025, 0, 1), detail: 'above 3000 W' };
    const [label, text, stationWide, wafers] = inKorean(() => [
      VERDICT_LABEL.fault,
      qualityIssueText(issue, issue.since + 180_000),
      qualityIssueText({ ...issue, sensor: undefined, kind: 'seq_gap' }, null),
      parseWafers('0'),
    ]);
    expect(label).toBe('✖ 불량');
    expect(text).toMatch(/^범위 이탈 · rf_power · above 3000 W · \d\d:\d\d:\d\d부터 \(3분\)$/);
    expect(stationWide).toMatch(/^순번 누락 · 설비 전체 · above 3000 W · \d\d:\d\d:\d\d부터$/);
    expect(wafers).toBe('웨이퍼 수는 1~50 사이의 정수여야 합니다.');
    expect(VERDICT_LABEL.fault).toBe('✖ FAULT');
  });

  it('says a wafer alert’s wafer and the latest wafer of a sample alert in Korean', () => {
    const wafer = { id: 'x', line: 'fab1', station: 'etch-01', source: 'wafer/main_etch', class: 'process' as const, state: 'firing' as const,
      severity: 'warning' as const, startedAt: 1, firingAt: 1, resolvedAt: null, flapping: false, muted: false, ack: null, score: 1.7, threshold: 1,
      modelVersion: 'w@1', equipmentState: 'PRODUCTIVE' as const, replay: false, contributors: [], level: 'wafer' as const,
      lastSample: { health: 'OK' as const, score: 0.42, threshold: 1, ts: 1 },
      wafer: { verdictId: 'v', wafer: 'W07', lot: 'L0001', recipe: null, step: 'main_etch', start: 0, end: 1, baseline: 'b1' } };
    expect(inKorean(() => levelText(wafer))).toBe('웨이퍼 W07 · 로트 L0001 · main etch · 샘플 단위 OK 0.42 / 1');
    const sample = { ...wafer, level: 'sample' as const, lastWafer: { wafer: 'W07', step: 'main_etch', end: 1, verdict: 'baselining' as const, score: 3, threshold: 1 } };
    expect(inKorean(() => levelText(sample))).toBe('최근 웨이퍼 W07 · main etch ◌ 기준 설정 중');
  });
});
