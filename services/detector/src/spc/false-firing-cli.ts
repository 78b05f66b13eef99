/**
 * How often the Western Electric rules fire on fault-free simulated data, per station type and sigma estimator:
 * limits learned per recipe step (as the per-context models are), judged on a held-out run of another seed.
 * Also counts the ALARM episodes `decide()` would raise from the rules alone (`spcAlarm`, default
 * WARN/ALARM/CLEAR_AFTER), on productive snapshots only (idle is STANDBY, which never alarms).
 * `npx tsx services/detector/src/spc/false-firing-cli.ts [trainRows=20000] [heldOutRows=20000] [types=all]`
 */
import { SPC_RULES, type ProcessContext } from '@linewatch/protocol';
import { DEFAULT_LINE, sampleNormal } from '@linewatch/simulators';
import { decide, INITIAL_DECISION, type DecisionInput } from '../decision.js';
import { contextKey, isIdleContext, trainingContext } from '../model/context.js';
import { learnSpcLimits, measureFiringRates, type SigmaEstimator } from './limits.js';
import { RunRules, type SpcLimits } from './western-electric.js';

const trainRows = Number(process.argv[2] ?? '20000');
const heldOutRows = Number(process.argv[3] ?? '20000');
const types = process.argv[4] && process.argv[4] !== 'all' ? process.argv[4].split(',') : [...new Set(DEFAULT_LINE.stations.map((s) => s.type))];
const ESTIMATORS: SigmaEstimator[] = ['moving-range', 'std', 'max'];

/** Rows grouped by model context, in time order. */
function byContext(rows: number[][], contexts: ProcessContext[]): Map<string, number[][]> {
  const groups = new Map<string, number[][]>();
  rows.forEach((row, i) => {
    const key = contextKey(trainingContext(contexts[i]));
    let group = groups.get(key);
    if (!group) groups.set(key, (group = []));
    group.push(row);
  });
  return groups;
}

/** Consecutive snapshots of one step of one wafer (or one idle stretch). */
function runsOf(rows: number[][], contexts: ProcessContext[]): { key: string; idle: boolean; rows: number[][] }[] {
  const runs: { key: string; id: string; idle: boolean; rows: number[][] }[] = [];
  rows.forEach((row, i) => {
    const c = contexts[i];
    const key = contextKey(trainingContext(c));
    const id = `${key}/${c?.wafer ?? ''}`;
    const last = runs.at(-1);
    if (last?.id === id) last.rows.push(row);
    else runs.push({ key, id, idle: isIdleContext(c), rows: [row] });
  });
  return runs;
}

const pct = (x: number): string => `${(100 * x).toFixed(2)}%`.padStart(7);
console.log(`train ${trainRows} s, held out ${heldOutRows} s at 1 Hz; rates are shares of productive snapshots on which a rule holds on ≥1 sensor`);
console.log(`type        sensors estimator     ${SPC_RULES.map((r) => r.padStart(7)).join(' ')}     any  onsets  alarms/h`);
for (const type of types) {
  const train = sampleNormal(type, trainRows, 1);
  const held = sampleNormal(type, heldOutRows, 2);
  const runs = runsOf(held.rows, held.contexts).filter((r) => !r.idle);
  const groups = byContext(train.rows, train.contexts);
  for (const estimator of ESTIMATORS) {
    const limits = new Map<string, SpcLimits>([...groups].map(([key, rows]) => [key, learnSpcLimits(rows, estimator)]));
    // Firing rates, weighted over contexts by their held-out snapshots.
    const totals = { samples: 0, rules: Object.fromEntries(SPC_RULES.map((r) => [r, 0])) as Record<string, number>, any: 0, onsets: 0 };
    for (const [key, lim] of limits) {
      const r = measureFiringRates(train.features, lim, runs.filter((x) => x.key === key).map((x) => x.rows));
      totals.samples += r.samples;
      for (const rule of SPC_RULES) totals.rules[rule] = (totals.rules[rule] ?? 0) + r.rules[rule].sampleRate * r.samples;
      totals.any += r.any.sampleRate * r.samples;
      totals.onsets += r.any.onsetRate * r.samples;
    }
    // ALARM episodes from the rules alone, through decide(): the tracker restarts the rules at each context change.
    let state = INITIAL_DECISION;
    let alarms = 0;
    const model: DecisionInput['model'] = { features: train.features, mean: [], std: [], threshold: 1, version: 'spc' };
    for (const run of runs) {
      const lim = limits.get(run.key);
      if (!lim) continue;
      const rules = new RunRules(train.features, lim);
      for (const row of run.rows) {
        const values = Object.fromEntries(train.features.map((f, j) => [f, row[j] as number]));
        const d = decide(
          state,
          { line: 'x', station: type, ts: 0, seq: 0, values, row: { score: 0, t2: 0, spe: 0 }, model, equipmentState: 'PRODUCTIVE', rules: rules.push(row) },
          { warnAfter: 2, alarmAfter: 3, clearAfter: 5, spcAlarm: true },
        );
        if (d.anomaly) alarms++;
        state = d.state;
      }
    }
    const n = Math.max(1, totals.samples);
    console.log(
      `${type.padEnd(11)} ${String(train.features.length).padStart(7)} ${estimator.padEnd(12)} ${SPC_RULES.map((r) => pct((totals.rules[r] ?? 0) / n)).join(' ')} ${pct(totals.any / n)} ${pct(totals.onsets / n)} ${((alarms / n) * 3600).toFixed(1).padStart(9)}`,
    );
  }
}
