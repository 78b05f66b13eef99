import { describe, expect, it } from 'vitest';
import { alert, notification, subscription, T0 } from './fixtures.test-support.js';
import { buildPayload, buildTestPayload, FIRING_ENDS_AT, type WebhookPayload } from './payload.js';

const opts = { receiver: 'sub-mes', stationUrl: (line: string, station: string) => `https://linewatch.fab.example/lines/${line}/stations/${station}` };
const parse = (text: string): WebhookPayload => JSON.parse(text) as WebhookPayload;

describe('buildPayload', () => {
  it('has the Alertmanager webhook shape, grouped on the alert key', () => {
    const p = parse(buildPayload(notification('firing'), opts));
    expect(p).toMatchObject({
      version: '4',
      status: 'firing',
      receiver: 'sub-mes',
      truncatedAlerts: 0,
      groupKey: '{}:{alertname="model",line="fab1",station="etch-01"}',
      groupLabels: { alertname: 'model', line: 'fab1', station: 'etch-01' },
      commonLabels: { alertname: 'model', line: 'fab1', station: 'etch-01', severity: 'warning', class: 'process' },
      externalURL: 'https://linewatch.fab.example/',
    });
    expect(p.commonAnnotations.summary).toBe('fab1/etch-01: process alert model firing');
    expect(p.commonAnnotations.description).toContain('top contributors: rf_power 1620 (expected 1500, 71%), chamber_pressure 41.2');
    expect(p.alerts).toHaveLength(1);
    const [a] = p.alerts;
    expect(a).toMatchObject({
      status: 'firing',
      labels: p.commonLabels,
      annotations: p.commonAnnotations,
      startsAt: new Date(T0).toISOString(),
      endsAt: FIRING_ENDS_AT,
      generatorURL: 'https://linewatch.fab.example/lines/fab1/stations/etch-01',
      fingerprint: `fab1/etch-01/model/${T0}`,
    });
  });

  it('adds linewatch fields: ranked contributors, model, equipment state, score, class, replay, kind', () => {
    const [a] = parse(buildPayload(notification('escalated', alert({ severity: 'critical' })), opts)).alerts;
    expect(a?.contributors.map((c) => c.sensor)).toEqual(['rf_power', 'chamber_pressure']);
    expect(a?.contributors[0]).toEqual({ sensor: 'rf_power', value: 1620, expected: 1500, contribution: 0.71 });
    expect(a).toMatchObject({
      kind: 'escalated',
      severity: 'critical',
      state: 'firing',
      class: 'process',
      modelVersion: 'etch@3',
      equipmentState: 'PRODUCTIVE',
      score: 3.2,
      threshold: 1,
      replay: false,
      acknowledged: null,
      stationURL: 'https://linewatch.fab.example/lines/fab1/stations/etch-01',
      firingAt: new Date(T0 + 30_000).toISOString(),
    });
    expect(a?.annotations.summary).toContain('escalated to critical');
  });

  it('sends endsAt as the resolve time once resolved, and says who acknowledged', () => {
    const resolvedAt = T0 + 600_000;
    const ack = { by: 'ana', at: T0 + 120_000, comment: 'chamber clean booked' };
    const p = parse(buildPayload(notification('resolved', alert({ state: 'resolved', resolvedAt, ack })), opts));
    expect(p.status).toBe('resolved');
    expect(p.alerts[0]).toMatchObject({
      status: 'resolved',
      kind: 'resolved',
      endsAt: new Date(resolvedAt).toISOString(),
      acknowledged: { by: 'ana', at: new Date(T0 + 120_000).toISOString(), comment: 'chamber clean booked' },
    });
  });

  it('describes a data-quality alert without a score', () => {
    const dq = alert({ source: 'dq:stuck', class: 'data_quality', score: null, threshold: null, modelVersion: null, contributors: [] });
    const [a] = parse(buildPayload(notification('firing', dq), { ...opts, externalUrl: 'https://lw.example/ops/' })).alerts;
    expect(a?.annotations).toEqual({ summary: 'fab1/etch-01: data-quality alert dq:stuck firing', description: 'equipment PRODUCTIVE' });
    expect(a?.labels.class).toBe('data_quality');
  });

  it('is the same bytes for the same notification, and carries no subscription secret or header value', () => {
    const n = notification('firing');
    const s = subscription();
    const body = buildPayload(n, { ...opts, receiver: s.id });
    expect(buildPayload(n, { ...opts, receiver: s.id })).toBe(body);
    for (const secret of [...s.secrets, s.header?.value ?? 'x']) expect(body).not.toContain(secret);
  });
});

describe('buildPayload: wafer-level and sample-level evidence side by side', () => {
  const waferAlert = alert({
    source: 'wafer/main_etch',
    level: 'wafer',
    severity: 'critical',
    score: 3.1,
    threshold: 1,
    modelVersion: 'etch-wafer@2',
    wafer: { verdictId: 'fab1/etch-01/W07/main_etch/1', wafer: 'W07', lot: 'L0001', recipe: 'ETCH-AL-01', step: 'main_etch', start: T0 - 60_000, end: T0, baseline: 'b3' },
    contributors: [
      { sensor: 'step', value: 75, expected: 60, contribution: 0.2, stat: 'duration' },
      { sensor: 'rf_power', value: 1620, expected: 1500, contribution: 0.7, stat: 'mean' },
    ],
    lastWafer: { wafer: 'W07', step: 'main_etch', end: T0, verdict: 'fault', score: 3.1, threshold: 1 },
    lastSample: { health: 'OK', score: 0.42, threshold: 1, ts: T0 },
  });

  it('labels a wafer alert level wafer, and annotates wafer, lot, step and its indicators (sensor.stat)', () => {
    const [a] = parse(buildPayload(notification('firing', waferAlert), opts)).alerts;
    expect(a?.labels).toMatchObject({ alertname: 'wafer/main_etch', level: 'wafer', severity: 'critical' });
    expect(a?.annotations).toMatchObject({
      summary: 'fab1/etch-01: process alert wafer/main_etch firing (wafer W07)',
      wafer: 'W07',
      lot: 'L0001',
      step: 'main_etch',
      recipe: 'ETCH-AL-01',
      indicators: 'rf_power.mean 1620 (expected 1500, 70%), step.duration 75 (expected 60, 20%)',
      sampleVerdict: 'OK, score 0.42 (threshold 1)',
    });
    expect(a?.annotations.description).toBe(
      'wafer W07 (lot L0001), step main_etch; score 3.1 (threshold 1); top indicators: rf_power.mean 1620 (expected 1500, 70%), ' +
        'step.duration 75 (expected 60, 20%); equipment PRODUCTIVE; sample-wise: OK, score 0.42 (threshold 1)',
    );
    expect(a).toMatchObject({ level: 'wafer', wafer: { wafer: 'W07', step: 'main_etch', baseline: 'b3' }, lastSample: { health: 'OK' }, rules: [], brokenCorrelations: [] });
    expect(a?.contributors.map((c) => `${c.sensor}.${c.stat}`)).toEqual(['rf_power.mean', 'step.duration']);
  });

  it('labels a sample alert level sample, with the latest wafer verdict, the SPC rules and broken correlations beside it', () => {
    const sample = alert({
      lastWafer: { wafer: 'W07', step: 'main_etch', end: T0, verdict: 'fault', score: 3.1, threshold: 1 },
      rules: [{ rule: 'WE1', sensor: 'rf_power', side: 'high', value: 1620, center: 1500, sigma: 30 }],
      brokenCorrelations: [{ sensors: ['rf_power', 'chamber_pressure'], correlation: 0.92, z: [3.1, -0.4] }],
    });
    const [a] = parse(buildPayload(notification('firing', sample), opts)).alerts;
    expect(a?.labels.level).toBe('sample');
    expect(a?.annotations).toMatchObject({
      lastWaferVerdict: `wafer W07, step main_etch: fault, score 3.1 (threshold 1), ended ${new Date(T0).toISOString()}`,
      spcRules: 'WE1 rf_power high (1620 vs centre 1500, sigma 30)',
      brokenCorrelations: 'rf_power ~ chamber_pressure (normally r 0.92; now z 3.1, -0.4)',
    });
    expect(a?.annotations.description).toContain('SPC rules: WE1 rf_power high');
    expect(a?.annotations.description).toContain('latest wafer: wafer W07, step main_etch: fault');
    expect(a).toMatchObject({ level: 'sample', wafer: null, lastWafer: { verdict: 'fault' }, rules: [{ rule: 'WE1' }] });
    expect(a?.annotations.wafer).toBeUndefined();
  });

  it('reads an alert stored before levels existed as a sample alert with nothing extra', () => {
    const [a] = parse(buildPayload(notification('firing'), opts)).alerts;
    expect(a).toMatchObject({ level: 'sample', wafer: null, rules: [], brokenCorrelations: [], lastWafer: null, lastSample: null });
    expect(Object.keys(a?.annotations ?? {})).toEqual(['summary', 'description']);
  });
});

describe('buildTestPayload', () => {
  it('is Alertmanager-shaped and marked as a test', () => {
    const p = parse(buildTestPayload({ receiver: 'sub-mes', at: T0, externalUrl: 'https://lw.example/' }));
    expect(p).toMatchObject({ version: '4', status: 'firing', groupLabels: { alertname: 'LinewatchTest' } });
    expect(p.alerts[0]).toMatchObject({ kind: 'test', endsAt: FIRING_ENDS_AT, contributors: [] });
  });
});
