/**
 * Wafer-level detection on the real LAM 9600 etch data, cross-validated by wafer with a re-baseline per experiment:
 * `npm run eval:lam9600 -- [DATA_DIR] [--out report.json] [--stats mean,std] [--baseline 5] [--folds 5] [--quantile 0.98]`
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { lam9600Dir } from '../test/support/shared-data.js';
import type { SensorStat } from '../services/detector/src/wafer/indicators.js';
import { evaluateLam9600 } from '../services/detector/src/wafer/lam9600.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { out: { type: 'string' }, stats: { type: 'string' }, baseline: { type: 'string' }, folds: { type: 'string' }, quantile: { type: 'string' }, rate: { type: 'string' } },
});
const dataDir = positionals[0] ?? lam9600Dir();
if (!dataDir) throw new Error('LAM 9600 data not found: pass its folder (../shared/data/lam9600)');
const work = await mkdtemp(path.join(tmpdir(), 'linewatch-lam-'));
try {
  const result = await evaluateLam9600(dataDir, work, {
    ...(values.stats ? { stats: values.stats.split(',') as SensorStat[] } : {}),
    ...(values.baseline ? { baselineWafers: Number(values.baseline) } : {}),
    ...(values.folds ? { folds: Number(values.folds) } : {}),
    ...(values.quantile ? { quantile: Number(values.quantile) } : {}),
    ...(values.rate ? { waferFalseAlarmRate: Number(values.rate) } : {}),
  });
  for (const v of result.verdicts.filter((x) => !x.normal || x.flagged)) {
    const top = v.steps.reduce((a, b) => (b.score > a.score ? b : a), v.steps[0]!);
    const why = top.contributors.slice(0, 2).map((c) => `${c.sensor}.${c.stat} ${c.value.toPrecision(4)} (exp ${c.expected.toPrecision(4)})`).join(', ');
    console.log(`${v.id} ${(v.fault ?? 'normal').padEnd(9)} exp ${v.period} ${v.flagged ? 'FLAGGED' : 'missed '} score ${v.score.toFixed(2)} step ${top.step}: ${why}`);
  }
  console.log(`faulty wafers detected: ${result.faults.detected}/${result.faults.total}`);
  console.log(`normal wafers flagged: ${result.normals.flagged}/${result.normals.total} (${(100 * result.normals.rate).toFixed(1)}%); baseline wafers (not scored): ${result.baseline.join(' ')}`);
  if (values.out) await writeFile(values.out, `${JSON.stringify(result, null, 2)}\n`);
} finally {
  await rm(work, { recursive: true, force: true });
}
