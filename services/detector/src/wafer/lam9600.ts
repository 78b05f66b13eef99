import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { listRecordings } from '@linewatch/recording';
import { importCsv } from '@linewatch/simulators';
import { crossValidate, type CvOptions, type CvResult, type CvWafer } from './cross-validate.js';
import { readWaferSteps } from './wafer-steps.js';

/**
 * The LAM 9600 metal etch benchmark at wafer level (docs/detection.md): import both CSV files with the options
 * docs/import.md gives, summarise every wafer's two etch steps, and cross-validate with a re-baseline per
 * experiment. The experiment and the run order come from `wafers.csv` (`l2915` is wafer 15 of experiment 29).
 */
export async function evaluateLam9600(dataDir: string, workDir: string, opts: Partial<CvOptions> = {}): Promise<CvResult> {
  const common = {
    runColumn: 'wafer', waferColumn: 'wafer', timeColumn: 'time', stepColumn: 'step', exclude: ['t'],
    line: 'lam9600', station: 'etch-01', type: 'etch', recipe: 'LAM9600-AL',
  };
  const imports = [
    ['normal', { ...common, timeOrigin: Date.UTC(2026, 0, 5), label: 0 }],
    ['faults', { ...common, timeOrigin: Date.UTC(2026, 0, 12), labelColumn: 'label', faultColumn: 'fault' }],
  ] as const;
  const files: string[] = [];
  for (const [name, options] of imports) {
    const out = path.join(workDir, name);
    const result = await importCsv(path.join(dataDir, `${name}.csv`), { ...options, out });
    if (!result.ok) throw new Error(`import of ${name}.csv failed: ${result.files.map((f) => f.problem).filter(Boolean).join('; ')}`);
    files.push(...(await listRecordings(out)));
  }
  const steps = await readWaferSteps(files);
  const [, ...lines] = (await readFile(path.join(dataDir, 'wafers.csv'), 'utf8')).trim().split('\n');
  const table = new Map(lines.map((l) => {
    const [wafer, source, experiment, fault] = l.split(',');
    return [wafer as string, { order: Number((source as string).slice(3)), period: experiment as string, fault: fault || undefined }];
  }));
  const wafers: CvWafer[] = [...table].map(([id, t]) => ({
    id, period: t.period, order: t.order, normal: t.fault === undefined, ...(t.fault ? { fault: t.fault } : {}),
    steps: steps.filter((s) => s.wafer === id),
  }));
  return crossValidate(wafers, { folds: 5, baselineWafers: 5, stationType: 'etch', ...opts });
}
