import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listRecordings } from '@linewatch/recording';
import { importCsv, type ImportOptionsInput } from '@linewatch/simulators';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backtest, type BacktestOptions } from '../../services/detector/src/backtest/backtest.js';
import { collectTrainingRows, fitAndWrite } from '../../services/detector/src/backtest/training.js';
import { loadOnnxModel } from '../../services/detector/src/model/onnx-model.js';
import { lam9600Dir } from '../support/shared-data.js';

/**
 * Real plant data end to end, as docs/backtest.md runs it: the LAM 9600 etch CSVs imported one wafer per run,
 * a model trained on the odd-numbered normal wafers, and the even-numbered normal wafers plus the 21 faulty
 * ones backtested. A regression test: a change that loses detections or adds false alerts on real data fails it.
 */
const LAM_DIR = lam9600Dir();
const LAM = LAM_DIR ?? '';
const COMMON: ImportOptionsInput = {
  runColumn: 'wafer', waferColumn: 'wafer', timeColumn: 'time', stepColumn: 'step', exclude: ['t'],
  line: 'lam9600', station: 'etch-01', type: 'etch', recipe: 'LAM9600-AL',
};

let dir: string;
let options: BacktestOptions;

beforeAll(async () => {
  if (!LAM_DIR) return;
  dir = await mkdtemp(join(tmpdir(), 'lw-lam-'));
  const normal = join(dir, 'normal');
  const faults = join(dir, 'faults');
  await importCsv(join(LAM, 'normal.csv'), { ...COMMON, timeOrigin: Date.UTC(2026, 0, 5), label: 0, out: normal });
  await importCsv(join(LAM, 'faults.csv'), { ...COMMON, timeOrigin: Date.UTC(2026, 0, 12), labelColumn: 'label', faultColumn: 'fault', out: faults });
  const wafers = await listRecordings(normal);
  const odd = wafers.filter((f) => /[13579]\.jsonl\.gz$/.test(f));
  const even = wafers.filter((f) => /[02468]\.jsonl\.gz$/.test(f));
  const models = join(dir, 'models');
  await fitAndWrite(models, await collectTrainingRows(odd, { by: 'type' }), { minContextRows: 200 });
  options = {
    inputs: [...even, faults], model: models, rules: { warnAfter: 2, alarmAfter: 3, clearAfter: 5, offlineAfterMs: 10_000 },
    graceMs: 10_000, shiftHours: 8, logger: pino({ level: 'silent' }), loadModel: loadOnnxModel,
  };
}, 120_000);
afterAll(async () => {
  if (!LAM_DIR) return;
  await rm(dir, { recursive: true, force: true });
});

describe.skipIf(!LAM_DIR)('backtest on the LAM 9600 etch data', () => {
  it('scores every wafer and reports each labelled fault', async () => {
    const { report } = await backtest(options);
    expect(report.totals.runs).toBe(54 + 21);
    expect(report.totals.unscored).toBe(0);
    // Every faulty wafer is one fault window, named as the data names it.
    expect(report.events.windows).toBe(21);
    expect(report.events.byFault.map((f) => f.fault)).toContain('TCP +50');
    expect(report.samplewise.tp + report.samplewise.fn).toBe(2039);
    // Sample-wise PCA alone does poorly on this data, as expected (wafer-level detection is the answer:
    // lam9600-wafer.test.ts, 19/21). Training now leaves out sensors whose level moves across the normal data,
    // and here the three experiments weeks apart move seven of them, pressure among them: 2 faults are caught
    // (5 before the screening, which took the pressure faults). Never fewer, and no false alert.
    expect(report.events.detected).toBeGreaterThanOrEqual(2);
    expect(report.events.timeToDetect.medianMs).toBeLessThanOrEqual(10_000);
    expect(report.events.falseAlerts).toBe(0);
    expect(report.samplewise.far).toBeLessThan(0.01);
  });
});
