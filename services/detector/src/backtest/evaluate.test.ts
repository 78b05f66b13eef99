import type { Health } from '@linewatch/protocol';
import type { RecordingHeader } from '@linewatch/recording';
import { describe, expect, it } from 'vitest';
import { evaluate } from './evaluate.js';
import type { FaultWindow, RunTrace, StationTrace } from './trace.js';

const HEADER = { format: 'linewatch-recording', version: 1, createdAt: 0, source: { kind: 'csv', detail: 't' }, lines: ['l'], stations: [], start: 0, end: 99_000, counts: { telemetry: 0, state: 0, meta: 0, truth: 0, labelled: 0 }, labels: 'points' } satisfies RecordingHeader;

/** A station sampled once a second; `a` marks anomalous samples, `A` samples in ALARM, `1` in `labels` faulty. */
function station(name: string, flags: string, labels: string, trainedUntil: number | null = null): StationTrace {
  const n = flags.length;
  const ts = Array.from({ length: n }, (_, i) => i * 1000);
  return {
    line: 'l', station: name, type: undefined, ts, seq: ts.map((_, i) => i),
    score: [...flags].map((c) => (c === '.' ? 0.5 : 3)), threshold: ts.map(() => 1),
    anomalous: [...flags].map((c) => c !== '.'), health: [...flags].map((c): Health => (c === 'A' ? 'ALARM' : c === 'a' ? 'WARN' : 'OK')),
    label: [...labels].map((c) => (c === '1' ? 1 : c === '0' ? 0 : null)),
    received: n, lastTs: (n - 1) * 1000, overlays: [], states: [], transitions: [], wafers: [], unscored: 0, trainedUntil,
  };
}

function windowsOf(t: StationTrace, labels: string, fault: string): FaultWindow[] {
  const out: FaultWindow[] = [];
  [...labels].forEach((c, i) => {
    const last = out.at(-1);
    if (c !== '1') return;
    if (last && last.end === (i - 1) * 1000) last.end = i * 1000;
    else out.push({ id: `r/${t.station}/${i * 1000}`, run: 'r', line: 'l', station: t.station, fault, start: i * 1000, end: i * 1000, source: 'points' });
  });
  return out;
}

function run(stations: { t: StationTrace; labels: string; fault: string }[]): RunTrace {
  return { run: 'r', file: 'r.jsonl.gz', header: HEADER, stations: stations.map((s) => s.t), windows: stations.flatMap((s) => windowsOf(s.t, s.labels, s.fault)), anomalies: [], warmingUp: 0 };
}

describe('evaluate', () => {
  //               0123456789012345678901234567890
  const flags1 = '....aaAAAA....aAA.....a........';
  const label1 = '.....1111111............1111...';
  const l1 = label1.replace(/\./g, '0');

  it('counts point-wise per sample and per alarm, with every ratio', () => {
    const e = evaluate([run([{ t: station('s1', flags1, l1), labels: l1, fault: 'step' }])], { graceMs: 2_000, shiftHours: 8 });
    // Samples flagged: 4-9, 14-16, 22 (10). Labelled: 5-11, 24-27 (11).
    expect(e.samplewise).toMatchObject({ tp: 5, fp: 5, fn: 6, tn: 15, unlabelled: 0, precision: 0.5, recall: 0.454545, far: 0.25, mar: 0.545455 });
    expect(e.samplewise.f1).toBeCloseTo((2 * 0.5 * 0.454545) / (0.5 + 0.454545), 5);
    // ALARM: 6-9 and 15-16.
    expect(e.alarmwise).toMatchObject({ tp: 4, fp: 2, fn: 7, tn: 18 });
  });

  it('detects a window by the first ALARM inside it and counts ALARM outside every window as a false alert', () => {
    const e = evaluate([run([{ t: station('s1', flags1, l1), labels: l1, fault: 'step' }])], { graceMs: 2_000, shiftHours: 8 });
    expect(e.windows.map((w) => [w.start, w.end, w.detected, w.timeToDetectMs])).toEqual([
      [5_000, 11_000, true, 1_000],
      [24_000, 27_000, false, null],
    ]);
    expect(e.episodes).toEqual([
      expect.objectContaining({ id: 'l/s1/6000', start: 6_000, end: 9_000, samples: 4, window: 'r/s1/5000' }),
      expect.objectContaining({ id: 'l/s1/15000', start: 15_000, end: 16_000, samples: 2, window: null }),
    ]);
    expect(e.events).toMatchObject({ windows: 2, detected: 1, missed: 1, detectionRate: 0.5, falseAlerts: 1 });
    // 31 samples a second apart: 31 s scored, so one false alert is 8 h / 31 s = 929 per shift.
    expect(e.events.falseAlertsPerShift).toBeCloseTo(1 / (31 / 3600 / 8), 3);
    expect(e.events.byFault).toEqual([expect.objectContaining({ fault: 'step', windows: 2, detected: 1 })]);
  });

  it('lets an ALARM within the grace after a window detect it, and not one later', () => {
    const flags = '.....AAA..........';
    const labels = '..111.............'.replace(/\./g, '0');
    const within = evaluate([run([{ t: station('s', flags, labels), labels, fault: 'spike' }])], { graceMs: 2_000, shiftHours: 8 });
    expect(within.windows[0]).toMatchObject({ detected: true, timeToDetectMs: 3_000 });
    expect(within.events.falseAlerts).toBe(0);
    const beyond = evaluate([run([{ t: station('s', flags, labels), labels, fault: 'spike' }])], { graceMs: 0, shiftHours: 8 });
    expect(beyond.windows[0]).toMatchObject({ detected: false });
    expect(beyond.events.falseAlerts).toBe(1);
  });

  it('pools runs: point-wise over the concatenation, event-wise window by window, time to detect as percentiles', () => {
    const a = '..AAA.....';
    const la = '.1111.....'.replace(/\./g, '0');
    const b = '......AAAA';
    const lb = '..11111111'.replace(/\./g, '0');
    const e = evaluate(
      [run([{ t: station('s', a, la), labels: la, fault: 'drift' }]), { ...run([{ t: station('s', b, lb), labels: lb, fault: 'drift' }]), run: 'r2' }],
      { graceMs: 0, shiftHours: 8 },
    );
    expect(e.samplewise).toMatchObject({ tp: 7, fp: 0, fn: 5, tn: 8 });
    expect(e.events.timeToDetect).toEqual({ medianMs: 1_000, p90Ms: 4_000, maxMs: 4_000 });
    expect(e.events.hours).toBeCloseTo(20 / 3600, 6);
  });

  it('leaves training rows and windows inside them out of every count', () => {
    const flags = 'AAA.......A...';
    const labels = '11100000000000';
    const e = evaluate([run([{ t: station('s', flags, labels, 4_000), labels, fault: 'step' }])], { graceMs: 0, shiftHours: 8 });
    expect(e.windows).toEqual([]);
    expect(e.samplewise).toMatchObject({ tp: 0, fp: 1, tn: 8, fn: 0 });
    expect(e.episodes.map((x) => x.start)).toEqual([10_000]);
  });

  it('keeps unlabelled samples out of the ratios and a window cut off by the end of the recording out of the counts', () => {
    const t = station('s', '....a', '????1');
    const e = evaluate([run([{ t, labels: '....1', fault: 'step' }])], { graceMs: 0, shiftHours: 8 });
    expect(e.samplewise).toMatchObject({ unlabelled: 4, tp: 1, precision: 1, far: null });
    expect(e.events).toMatchObject({ windows: 0, cutOff: 1 });
  });
});
