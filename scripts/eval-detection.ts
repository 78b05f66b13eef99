/**
 * The detection benchmark of docs/detection.md, per model family and for the default combination:
 *   npm run eval:detection -- [--work .cache/eval-detection] [--seeds 12,15,16] [--out report.json]
 *
 * Records 8 h of normal line (seed 14) to train on and one 8 h run per seed of simulators/scenarios/detection-8h.yaml
 * (every fault type 4 times), plus a drift run (drift-rates.yaml), trains each family on the normal run, backtests
 * every configuration with the live detector's default rules and prints the tables the doc quotes. Recordings and
 * models are kept in --work and reused when present.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { RecordingWriter } from '@linewatch/recording';
import { DEFAULT_LINE, LineSimulator, loadScenario, recordSimulation } from '@linewatch/simulators';
import pino from 'pino';
import { backtest, type BacktestReport } from '../services/detector/src/backtest/backtest.js';
import type { DetectorRules } from '../services/detector/src/backtest/offline-run.js';
import { loadDetectorConfig } from '../services/detector/src/config.js';
import { loadOnnxModel } from '../services/detector/src/model/onnx-model.js';

const { values } = parseArgs({ options: { work: { type: 'string' }, seeds: { type: 'string' }, out: { type: 'string' } } });
const root = path.resolve(import.meta.dirname, '..');
const work = path.resolve(values.work ?? '.cache/eval-detection');
const seeds = (values.seeds ?? '12,15,16').split(',').map(Number);
const HOUR = 3_600_000;
await mkdir(work, { recursive: true });

async function record(file: string, seed: number, hours: number, scenarioFile: string | undefined, start: number): Promise<string> {
  if (existsSync(file)) return file;
  const scenario = scenarioFile ? loadScenario(scenarioFile) : { faults: [] };
  const simulator = new LineSimulator({ line: DEFAULT_LINE, scenario, seed, rateHz: 1, startTs: start });
  const sink = await RecordingWriter.create(file, { source: { kind: 'simulator', detail: `seed ${seed}` }, scenario: scenario.name, createdAt: start });
  await recordSimulation({ simulator, durationMs: hours * HOUR, sink });
  await sink.close();
  return file;
}

const train = await record(path.join(work, 'normal-8h-seed14.jsonl.gz'), 14, 8, undefined, Date.UTC(2026, 9, 31));
const faults = await Promise.all(
  seeds.map((seed, i) => record(path.join(work, `faults-8h-seed${seed}.jsonl.gz`), seed, 8, path.join(root, 'simulators/scenarios/detection-8h.yaml'), Date.UTC(2026, 10, 2 + i))),
);
const drift = await record(path.join(work, 'drift-rates-seed17.jsonl.gz'), 17, 6, path.join(root, 'simulators/scenarios/drift-rates.yaml'), Date.UTC(2026, 10, 10));

/** Trains with the real CLI, so the benchmark measures what `npm run train` writes. */
function trainModels(name: string, args: string[]): string {
  const dir = path.join(work, `models-${name}`);
  if (existsSync(dir)) return dir;
  const began = Date.now();
  execFileSync(process.execPath, ['--import', 'tsx', path.join(root, 'services/detector/src/model/train-cli.ts'), train, '--out', dir, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
  console.error(`trained ${name} in ${((Date.now() - began) / 1000).toFixed(0)} s`);
  return dir;
}
const pca = trainModels('pca', ['--family', 'pca', '--smoothing', '1', '--wafer-hours', '0']);
const dpca = trainModels('dpca', ['--family', 'dpca', '--smoothing', '1', '--wafer-hours', '0']);
const auto = trainModels('auto', ['--family', 'auto', '--smoothing', 'auto', '--wafer-hours', '0']);
const waferOnly = trainModels('wafer', ['--family', 'pca', '--smoothing', '1']);
// The default: what `npm run train` writes with no options (sample-wise family and wafer models).
const byDefault = trainModels('default', []);
// The wafer models alone: a folder holding only them (sample-wise snapshots are then UNMODELLED).
const waferDir = path.join(work, 'models-wafer-only');
if (!existsSync(waferDir)) {
  await mkdir(waferDir, { recursive: true });
  await symlink(path.join(waferOnly, 'wafer'), path.join(waferDir, 'wafer'));
}
/** A sample-wise set plus the wafer models. */
async function withWafer(dir: string, name: string): Promise<string> {
  const out = path.join(work, `models-${name}+wafer`);
  if (existsSync(out)) return out;
  await mkdir(out, { recursive: true });
  execFileSync('cp', ['-r', `${dir}/.`, out]);
  await rm(path.join(out, 'wafer'), { recursive: true, force: true });
  await symlink(path.join(waferOnly, 'wafer'), path.join(out, 'wafer'));
  return out;
}

const config = loadDetectorConfig({});
const rules: DetectorRules = {
  warnAfter: config.warnAfter, alarmAfter: config.alarmAfter, clearAfter: config.clearAfter, offlineAfterMs: config.offlineAfterMs,
  alarmFactor: config.alarmFactor, spcAlarm: false, quality: config.quality, warmupMs: config.warmupMs,
};
const configs: { name: string; model: string; rules: DetectorRules }[] = [
  { name: 'pca', model: pca, rules },
  { name: 'dpca', model: dpca, rules },
  { name: 'auto (pca/dpca + smoothing)', model: auto, rules },
  { name: 'pca + SPC rules alarming', model: pca, rules: { ...rules, spcAlarm: true } },
  { name: 'wafer only', model: waferDir, rules },
  { name: 'pca + wafer', model: await withWafer(pca, 'pca'), rules },
  { name: 'auto + wafer', model: await withWafer(auto, 'auto'), rules },
  { name: 'dpca + wafer', model: await withWafer(dpca, 'dpca'), rules },
  { name: 'default (pca + wafer)', model: byDefault, rules },
];

const logger = pino({ level: 'silent' });
const pct = (x: number | null): string => (x === null ? '—' : `${(100 * x).toFixed(1)}%`);
const secs = (ms: number | null): string => (ms === null ? '—' : `${(ms / 1000).toFixed(0)} s`);
const results: { name: string; report: BacktestReport; drift: BacktestReport }[] = [];
for (const c of configs) {
  const run = (inputs: string[]) => backtest({ inputs, model: c.model, rules: c.rules, graceMs: 10_000, shiftHours: 8, logger, loadModel: loadOnnxModel });
  const { report } = await run(faults);
  const { report: driftReport } = await run([drift]);
  results.push({ name: c.name, report, drift: driftReport });
  console.error(`backtested ${c.name}`);
}

const faultTypes = [...new Set(results[0]!.report.events.byFault.map((f) => f.fault))];
console.log(`\nfaults: ${faults.length} runs × 8 h, ${results[0]!.report.events.windows} fault windows; training: 8 h normal (seed 14)\n`);
console.log('| configuration | F1 (sample) | FAR (sample) | MAR (sample) | F1 (alarm) | events detected | false alerts / station / shift (mean, worst) |');
console.log('|---|---|---|---|---|---|---|');
for (const { name, report: r } of results) {
  const perStation = r.events.byStation.map((s) => s.falseAlertsPerShift ?? 0);
  const mean = perStation.reduce((a, b) => a + b, 0) / Math.max(1, perStation.length);
  console.log(`| ${name} | ${pct(r.samplewise.f1)} | ${pct(r.samplewise.far)} | ${pct(r.samplewise.mar)} | ${pct(r.alarmwise.f1)} | ${r.events.detected}/${r.events.windows} | ${mean.toFixed(2)}, ${Math.max(...perStation).toFixed(2)} |`);
}
console.log(`\n| configuration | ${faultTypes.join(' | ')} |`);
console.log(`|---|${faultTypes.map(() => '---').join('|')}|`);
for (const { name, report: r } of results) {
  const cells = faultTypes.map((t) => {
    const f = r.events.byFault.find((x) => x.fault === t);
    return f ? `${f.detected}/${f.windows}, ${secs(f.timeToDetect.medianMs)}` : '—';
  });
  console.log(`| ${name} | ${cells.join(' | ')} |`);
}
console.log('\ndrift: time to detect by rate (σ per minute over the fault)');
const windows = results[0]!.drift.windows;
console.log(`| configuration | ${windows.map((w) => `${w.station} ${Math.round((w.end - w.start) / 1000)} s`).join(' | ')} |`);
console.log(`|---|${windows.map(() => '---').join('|')}|`);
for (const { name, drift: d } of results) console.log(`| ${name} | ${d.windows.map((w) => (w.detected ? secs(w.timeToDetectMs) : 'missed')).join(' | ')} |`);
if (values.out) await writeFile(values.out, `${JSON.stringify(results.map((r) => ({ name: r.name, samplewise: r.report.samplewise, alarmwise: r.report.alarmwise, events: r.report.events, drift: r.drift.windows })), null, 2)}\n`);
