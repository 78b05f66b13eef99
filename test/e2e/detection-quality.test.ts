import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RecordingWriter } from '@linewatch/recording';
import { DEFAULT_LINE, LineSimulator, loadScenario, recordSimulation } from '@linewatch/simulators';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backtest, type BacktestReport } from '../../services/detector/src/backtest/backtest.js';
import { loadDetectorConfig } from '../../services/detector/src/config.js';
import { loadOnnxModel } from '../../services/detector/src/model/onnx-model.js';

/**
 * The quality floor: one fixed simulated hour of the whole line (the demo scenario, seed 3, 1 Hz: ten faults of
 * eight types, then the first four again) backtested through the committed models (`models/`, sample-wise and
 * wafer-level) with the detector's default rules. Measured when the floors were set (docs/detection.md):
 * point-wise F1 0.583 (per alarm 0.635) at a 0.081% false-alarm rate, 17/18 windows detected (one stuck
 * sensor missed), no false alert, median time to detect 2 s for steps and spikes, 4 s for stuck sensors, 0 s for
 * tools going down. The floors sit a few points under, since F1 moves with every retrain of the models. A change to the models, the rules or the detector that loses detections or adds false
 * alerts fails here.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let dir: string;
let report: BacktestReport;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lw-quality-'));
  const file = join(dir, 'demo-1h.jsonl.gz');
  const start = Date.parse('2026-11-01T00:00:00Z');
  const simulator = new LineSimulator({ line: DEFAULT_LINE, scenario: loadScenario(join(ROOT, 'simulators/scenarios/demo.yaml')), seed: 3, rateHz: 1, startTs: start });
  const sink = await RecordingWriter.create(file, { source: { kind: 'simulator', detail: 'seed 3' }, scenario: 'demo', createdAt: start });
  await recordSimulation({ simulator, durationMs: 3_600_000, sink });
  await sink.close();
  const c = loadDetectorConfig({});
  ({ report } = await backtest({
    inputs: [file], model: join(ROOT, 'models'),
    rules: {
      warnAfter: c.warnAfter, alarmAfter: c.alarmAfter, clearAfter: c.clearAfter, offlineAfterMs: c.offlineAfterMs,
      alarmFactor: c.alarmFactor, spcAlarm: c.spcAlarm, quality: c.quality, warmupMs: c.warmupMs,
    },
    graceMs: 10_000, shiftHours: 8, logger: pino({ level: 'silent' }), loadModel: loadOnnxModel,
  }));
}, 120_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('detection quality on a fixed simulated hour', () => {
  it('keeps point-wise F1 above its floor at a low false-alarm rate', () => {
    expect(report.samplewise.f1).toBeGreaterThanOrEqual(0.56);
    expect(report.alarmwise.f1).toBeGreaterThanOrEqual(0.61);
    expect(report.samplewise.far).toBeLessThan(0.002);
  });

  it('detects at least 17 of the 18 fault windows with no false alert', () => {
    expect(report.events.windows).toBe(18);
    expect(report.events.detected).toBeGreaterThanOrEqual(17);
    expect(report.events.falseAlerts).toBe(0);
  });

  it('detects steps, spikes, stuck sensors and tools going down within 5 s (median)', () => {
    for (const fault of ['step', 'spike', 'stuck', 'tool_down']) {
      const f = report.events.byFault.find((x) => x.fault === fault);
      expect(f?.timeToDetect.medianMs, fault).not.toBeNull();
      expect(f?.timeToDetect.medianMs, fault).toBeLessThanOrEqual(5_000);
    }
  });
});
