import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RecordingWriter } from '@linewatch/recording';
import { DEFAULT_LINE, LineSimulator, recordSimulation, type Scenario } from '@linewatch/simulators';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOnnxModel } from '../model/onnx-model.js';
import { backtest, type BacktestOptions } from './backtest.js';
import { renderHtml } from './html.js';

const MODELS = fileURLToPath(new URL('../../../../models', import.meta.url));
const START = Date.parse('2026-11-02T06:00:00Z');
/** Two 10σ steps, late enough that a run can train on its first 300 s (3000 rows a station). */
const SCENARIO: Scenario = {
  name: 'two-steps',
  faults: [
    { station: 'etch-01', type: 'step', sensors: ['chamber_pressure'], at: 400, duration: 60, magnitude: 10 },
    { station: 'cmp-01', type: 'step', sensors: ['platen_motor_current'], at: 500, duration: 60, magnitude: 10 },
    { station: 'inspection-01', type: 'tool_down', at: 450, duration: 30 },
  ],
};

let dir: string;
let file: string;
const options = (over: Partial<BacktestOptions> = {}): BacktestOptions => ({
  inputs: [file], model: MODELS, rules: { warnAfter: 2, alarmAfter: 3, clearAfter: 5, offlineAfterMs: 10_000 },
  graceMs: 10_000, shiftHours: 8, logger: pino({ level: 'silent' }), loadModel: loadOnnxModel, ...over,
});

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lw-backtest-'));
  file = join(dir, 'two-steps.jsonl.gz');
  const simulator = new LineSimulator({ line: DEFAULT_LINE, scenario: SCENARIO, seed: 21, rateHz: 10, startTs: START });
  const sink = await RecordingWriter.create(file, { source: { kind: 'simulator', detail: 'seed 21' }, scenario: 'two-steps', createdAt: START });
  await recordSimulation({ simulator, durationMs: 600_000, sink });
  await sink.close();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('backtest of a simulated run with injected faults', () => {
  it('detects both steps within a few samples, through the live decision rules', async () => {
    const { report } = await backtest(options());
    // The tool that is down sends nothing for 30 s (300 snapshots at 10 Hz).
    expect(report.totals).toEqual({ runs: 1, telemetry: 8 * 6000 - 300, scored: 8 * 6000 - 300, unscored: 0 });
    expect(report.runs[0]?.unscoredBy).toEqual({ UNMODELLED: 0, DATA_QUALITY: 0, warmingUp: 0, duplicateOrLate: 0 });
    expect(report.windows.map((w) => [w.station, w.fault, w.detected])).toEqual([
      ['cmp-01', 'step', true],
      ['etch-01', 'step', true],
      ['inspection-01', 'tool_down', true],
    ]);
    // A step shows as a sample-wise ALARM or, first when it starts late in a wafer's step, a faulty wafer; a tool
    // down is no process ALARM by design: it shows as its equipment state (at once) and then OFFLINE.
    expect(['ALARM', 'WAFER']).toContain(report.windows[0]?.detectedBy);
    expect(report.windows[1]?.detectedBy).toBe('ALARM');
    expect(report.windows[2]?.detectedBy).toBe('UNSCHEDULED_DOWN');
    expect(report.windows[2]?.timeToDetectMs).toBeLessThanOrEqual(100);
    expect(report.windows[2]?.shown).toEqual(expect.arrayContaining(['OFFLINE', 'UNSCHEDULED_DOWN']));
    for (const w of report.windows.filter((x) => x.fault === 'step')) expect(w.timeToDetectMs).toBeLessThanOrEqual(30_000);
    expect(report.events).toMatchObject({ windows: 3, detected: 3, missed: 0 });
    // Every alert is an anomaly event the live detector would have published, with its deterministic id.
    const etch = report.windows.find((w) => w.station === 'etch-01');
    expect(report.episodes.find((e) => e.window === etch?.id)?.id).toBe(`fab1/etch-01/${etch?.detectedAt}`);
    expect(report.samplewise.recall).toBeGreaterThan(0.5);
    expect(report.samplewise.far).toBeLessThan(0.005);
    expect(report.events.falseAlertsPerShift).toBe(0);
    expect(report.events.falseAlerts).toBe(report.episodes.filter((e) => e.window === null).length);
  });

  it('gives byte-identical JSON and HTML reports when run twice', async () => {
    const a = await backtest(options());
    const b = await backtest(options());
    expect(JSON.stringify(b.report)).toBe(JSON.stringify(a.report));
    const html = renderHtml(a.report, a.traces);
    expect(renderHtml(b.report, b.traces)).toBe(html);
    expect(html).toContain('<svg');
    expect(html).toMatch(/etch-01<\/b> · two-steps · step <span class="ok">detected in \d\.\d s/);
    expect(html).not.toMatch(/<script|https?:\/\//);
  });

  it('trains each run on its first rows and scores only the rest', async () => {
    const { report } = await backtest(options({ trainRows: 3000, fit: { minContextRows: 200 } }));
    expect(report.options.model).toBe('trained:3000');
    expect(report.events.windows).toBe(3);
    expect(report.events.detected).toBe(3);
    // Training rows are fed to the detector but left out of every count.
    const counted = report.samplewise.tp + report.samplewise.fp + report.samplewise.tn + report.samplewise.fn + report.samplewise.unlabelled;
    expect(counted).toBe(8 * (6000 - 3000) - 300);
  });

  it('scores every station with one bring-your-own model file', async () => {
    const { report } = await backtest(options({ model: join(MODELS, 'etch.onnx') }));
    // etch-01 has the etch model's sensors; the other stations lack them and stay unscored, and say so.
    expect(report.runs[0]?.scored).toBe(6000);
    expect(report.runs[0]?.unscored).toBe(7 * 6000 - 300);
    expect(Object.keys(report.samplewise.byStation)).toContain('fab1/etch-01');
    expect(report.samplewise.byStation['fab1/etch-01']?.tn).toBeGreaterThan(5000);
    expect(report.windows.find((w) => w.station === 'cmp-01')?.shown).toContain('DATA_QUALITY');
  });

  it('names the file and line of a corrupt recording instead of scoring part of it', async () => {
    const bad = join(dir, 'bad.jsonl.gz');
    const { gzipSync, gunzipSync } = await import('node:zlib');
    const text = gunzipSync(await readFile(file)).toString('utf8').split('\n');
    text[5] = '{"at":1,"kind":"telemetry","line":"fab1"}';
    await (await import('node:fs/promises')).writeFile(bad, gzipSync(text.join('\n')));
    await expect(backtest(options({ inputs: [bad] }))).rejects.toThrow(/bad\.jsonl\.gz:6: invalid entry/);
  });
});
