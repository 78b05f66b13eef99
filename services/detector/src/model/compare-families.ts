/**
 * PCA against dynamic PCA on the simulated line, through the TS reference scorer (which the ONNX graphs match,
 * see onnx-export.test.ts) and the detector's LagBuffer, on runs training never saw.
 *
 * `npx tsx services/detector/src/model/compare-families.ts [types=all] [samples=100000] [seed=7]`
 *
 * Per station type, each configuration trains its model set (`npm run train` data: `samples` rows over 20 runs
 * from `seed`), then scores:
 * - a fault-free run of 20 000 s (seed 1000): per-sample false-alarm rate (FA%) against the 0.1% target, and
 *   false ALARMs (3 over-threshold snapshots in a row, the detector's default) per 8 h shift;
 * - a run (seed 2000) with a step of 3 noise σ on each sensor in turn (100 s each, 100 s apart): the share of the
 *   step's scored snapshots over the threshold (step%), and the median seconds to the first 3 in a row;
 * - a run (seed 3000) with a slow drift on each sensor in turn that ramps to 6 noise σ over 300 s, 100 s apart
 *   (drift%, drift s).
 * Snapshots a model cannot score yet (its lag window warming up after a step change: the unscored share of the
 * normal run) count as not detected, and are left out of the false-alarm rate.
 */
import { DEFAULT_LINE, LineSimulator, stationSensors } from '@linewatch/simulators';
import type { FaultType, ProcessContext } from '@linewatch/protocol';
import { contextKey, trainingContext } from './context.js';
import { LagBuffer } from './lag-buffer.js';
import { lagSpecOf, scoreRowsTs } from './pca.js';
import { trainContextSet, type SetMember } from './train-set.js';
import type { Family } from './train.js';
import { sampleTrainingRows } from './training-data.js';

const types = process.argv[2] && process.argv[2] !== 'all' ? process.argv[2].split(',') : [...new Set(DEFAULT_LINE.stations.map((s) => s.type))];
const samples = Number(process.argv[3] ?? '100000');
const seed = Number(process.argv[4] ?? '7');

const CONFIGS: { name: string; family: Family; smoothing: number | 'auto' }[] = [
  { name: 'pca w=1', family: 'pca', smoothing: 1 },
  { name: 'dpca w=1', family: 'dpca', smoothing: 1 },
  { name: 'pca w=auto', family: 'pca', smoothing: 'auto' },
  { name: 'dpca w=auto', family: 'dpca', smoothing: 'auto' },
  { name: 'auto', family: 'auto', smoothing: 'auto' },
];
const ALARM_AFTER = 3;
const NORMAL_SECONDS = 20_000;

interface Snapshot {
  values: Record<string, number>;
  context: ProcessContext | undefined;
  sec: number;
}

function simulate(type: string, faults: { type: FaultType; sensors: string[]; at: number; duration: number; magnitude: number }[], seconds: number, runSeed: number): Snapshot[] {
  const def = DEFAULT_LINE.stations.find((s) => s.type === type);
  if (!def) throw new Error(`no station of type ${type}`);
  const sim = new LineSimulator({ line: { line: 'x', stations: [def] }, scenario: { faults: faults.map((f) => ({ ...f, station: def.id })) }, seed: runSeed, rateHz: 1, startTs: 0 });
  const out: Snapshot[] = [];
  for (let t = 0; t < seconds; t++) {
    for (const m of sim.tick()) {
      if (!m.topic.endsWith('/telemetry')) continue;
      const p = m.payload as { ts: number; values: Record<string, number>; context?: ProcessContext };
      out.push({ values: p.values, context: p.context, sec: p.ts / 1000 });
    }
  }
  return out;
}

/** Score per snapshot (NaN while its model's window warms up), routed as the detector does: context model, else fallback. */
function scoreRun(set: SetMember[], snapshots: Snapshot[]): number[] {
  const byContext = new Map(set.filter((m) => m.context).map((m) => [contextKey(m.context!), m]));
  const fallback = set.find((m) => !m.context)!;
  const buffer = new LagBuffer();
  return snapshots.map((s) => {
    const member = byContext.get(contextKey(trainingContext(s.context))) ?? fallback;
    const { model } = member.trained;
    const row = Float64Array.from(model.features, (f) => s.values[f] ?? NaN);
    const stacked = buffer.push(member.slug ?? '', row, lagSpecOf(model).lags);
    return stacked ? (scoreRowsTs(model, [Array.from(stacked)])[0]?.score ?? NaN) : NaN;
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

/** Detection share and median seconds to the first ALARM_AFTER in a row, over each fault window. */
function detection(scores: number[], snapshots: Snapshot[], windows: { at: number; duration: number }[]): { rate: number; delay: number } {
  let over = 0;
  let total = 0;
  const delays: number[] = [];
  for (const w of windows) {
    let run = 0;
    let first = Infinity;
    snapshots.forEach((s, i) => {
      if (s.sec < w.at || s.sec >= w.at + w.duration) return;
      total++;
      const hit = (scores[i] as number) > 1;
      if (hit) over++;
      run = hit ? run + 1 : 0;
      if (run === ALARM_AFTER && first === Infinity) first = s.sec - w.at;
    });
    delays.push(first);
  }
  return { rate: over / total, delay: median(delays) };
}

const pct = (v: number): string => `${(100 * v).toFixed(2)}%`.padStart(7);
console.log(`samples=${samples} seed=${seed}; target FA 0.1%/sample; step 3σ, drift 6σ/300 s`);
for (const type of types) {
  const { features, rows, contexts, runs } = sampleTrainingRows(type, samples, 20, seed);
  const sensors = stationSensors(type).map((s) => s.name);
  const stepFaults = sensors.map((s, i) => ({ type: 'step' as const, sensors: [s], at: 100 + i * 200, duration: 100, magnitude: 3 }));
  const driftFaults = sensors.map((s, i) => ({ type: 'drift' as const, sensors: [s], at: 100 + i * 400, duration: 300, magnitude: 6 }));
  const normal = simulate(type, [], NORMAL_SECONDS, 1000);
  const stepped = simulate(type, stepFaults, 100 + sensors.length * 200, 2000);
  const drifted = simulate(type, driftFaults, 100 + sensors.length * 400, 3000);
  for (const config of CONFIGS) {
    const started = Date.now();
    const set = trainContextSet(features, rows, contexts, { stationType: type, family: config.family, smoothing: config.smoothing, runs, trainedAt: new Date(0) });
    const trainMs = Date.now() - started;
    const normalScores = scoreRun(set, normal);
    const scored = normalScores.filter((s) => !Number.isNaN(s));
    const fa = scored.filter((s) => s > 1).length / scored.length;
    let run = 0;
    let alarms = 0;
    for (const s of normalScores) {
      run = s > 1 ? run + 1 : 0;
      if (run === ALARM_AFTER) alarms++;
    }
    const step = detection(scoreRun(set, stepped), stepped, stepFaults);
    const drift = detection(scoreRun(set, drifted), drifted, driftFaults);
    const chosen = set.map((m) => `${m.trained.metadata.family === 'dpca' ? 'D' : 'P'}${lagSpecOf(m.trained.model).lags}/${lagSpecOf(m.trained.model).smoothing}`);
    console.log(
      `${type.padEnd(11)} ${config.name.padEnd(12)} FA%=${pct(fa)} alarms/8h=${((alarms / NORMAL_SECONDS) * 8 * 3600).toFixed(1).padStart(5)} ` +
        `unscored=${pct(1 - scored.length / normal.length)} step%=${pct(step.rate)} step s=${String(step.delay).padStart(3)} ` +
        `drift%=${pct(drift.rate)} drift s=${String(drift.delay).padStart(3)} train=${(trainMs / 1000).toFixed(1)}s models(L/w)=${chosen.join(' ')}`,
    );
  }
}
