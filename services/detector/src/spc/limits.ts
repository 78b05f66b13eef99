import { SPC_RULES, type SpcRule } from '@linewatch/protocol';
import { RunRules, type SpcLimits } from './western-electric.js';

/** d2 for subgroups of two: E|x_t − x_{t−1}| = 1.128 σ for independent normal samples. */
export const D2_MOVING_RANGE = 1.128;

/**
 * How sigma is estimated from normal rows.
 * - `moving-range`: average moving range / d2, the individuals-chart estimate. Robust to slow drift in the
 *   training data, but it measures only sample-to-sample noise: on autocorrelated data (every sensor that
 *   follows a slow process variable) it underestimates σ, badly (by √(1−ρ) for an AR(1) with lag-1
 *   correlation ρ: a third of σ at ρ = 0.9), and 3σ limits then fire on ordinary wander.
 * - `std`: the sample standard deviation, which includes the slow wander.
 * - `max` (default): the larger of the two. On independent data the two agree; on autocorrelated or drifting
 *   data it is the std. The simulated line's sensors follow slow disturbances (τ 20 s), and per recipe step
 *   the moving range is far below the std: WE1 fires on 11–61% of a tool's fault-free snapshots with it,
 *   2–5% with `max` (`spc/false-firing-cli.ts`). `max` rather than `std` keeps the individuals-chart
 *   estimate where it is the larger, e.g. a loop that hunts (negative lag-1 correlation).
 */
export type SigmaEstimator = 'moving-range' | 'std' | 'max';

export interface SigmaEstimates {
  center: number[];
  movingRange: number[];
  std: number[];
}

/** Mean and both sigma estimates per feature; rows in time order. Non-finite readings are skipped. */
export function estimateSigma(rows: readonly ArrayLike<number>[]): SigmaEstimates {
  const p = rows[0]?.length ?? 0;
  const center: number[] = [];
  const movingRange: number[] = [];
  const std: number[] = [];
  for (let j = 0; j < p; j++) {
    let n = 0;
    let sum = 0;
    let mrSum = 0;
    let mrN = 0;
    let prev = Number.NaN;
    for (const row of rows) {
      const v = row[j] as number;
      if (!Number.isFinite(v)) continue;
      n++;
      sum += v;
      if (Number.isFinite(prev)) {
        mrSum += Math.abs(v - prev);
        mrN++;
      }
      prev = v;
    }
    const mean = n > 0 ? sum / n : Number.NaN;
    let ss = 0;
    for (const row of rows) {
      const v = row[j] as number;
      if (Number.isFinite(v)) ss += (v - mean) ** 2;
    }
    center.push(mean);
    movingRange.push(mrN > 0 ? mrSum / mrN / D2_MOVING_RANGE : Number.NaN);
    std.push(n > 1 ? Math.sqrt(ss / (n - 1)) : Number.NaN);
  }
  return { center, movingRange, std };
}

/**
 * Control limits from normal rows of one model (one station type and context), in time order: centre = mean,
 * sigma by `estimator` (default `max`, see SigmaEstimator). A constant feature gets sigma 0, which RunRules
 * does not judge.
 *
 * @example
 * const limits = learnSpcLimits(normalRows); // { center: [...], sigma: [...] } → model metadata spcCenter/spcSigma
 */
export function learnSpcLimits(rows: readonly ArrayLike<number>[], estimator: SigmaEstimator = 'max'): SpcLimits {
  if (rows.length < 2) throw new Error(`learnSpcLimits needs at least 2 rows, got ${rows.length}`);
  const { center, movingRange, std } = estimateSigma(rows);
  const sigma = movingRange.map((mr, j) => {
    const sd = std[j] as number;
    return estimator === 'moving-range' ? mr : estimator === 'std' ? sd : Math.max(mr, sd);
  });
  return { center, sigma };
}

export interface RuleRate {
  /** Share of sensor-samples (judged sensors × snapshots) on which the rule holds. */
  sensorRate: number;
  /** Share of snapshots on which it holds on at least one sensor. */
  sampleRate: number;
  /** Share of snapshots on which it starts to hold (on some sensor, after a snapshot where it held on none). */
  onsetRate: number;
}

export interface FiringRates {
  samples: number;
  /** Features with a usable sigma. */
  judged: number;
  rules: Record<SpcRule, RuleRate>;
  /** Any of the four rules. */
  any: RuleRate;
}

/**
 * How often each rule fires on held-out normal data: every firing is a false one. `runs` are stretches of
 * consecutive snapshots (e.g. one step of one wafer); the rules restart at the start of each, as the tracker
 * restarts them when the station's context changes.
 */
export function measureFiringRates(
  features: readonly string[],
  limits: SpcLimits,
  runs: readonly (readonly ArrayLike<number>[])[],
): FiringRates {
  const rules = new RunRules(features, limits);
  const keys = [...SPC_RULES, 'any'] as const;
  const count = Object.fromEntries(keys.map((k) => [k, { sensors: 0, samples: 0, onsets: 0 }]));
  let samples = 0;
  for (const run of runs) {
    rules.reset();
    const held = new Set<string>();
    for (const values of run) {
      samples++;
      const hits = rules.push(values);
      const now = new Map<string, Set<string>>(keys.map((k) => [k, new Set()]));
      for (const hit of hits) {
        now.get(hit.rule)?.add(hit.sensor);
        now.get('any')?.add(hit.sensor);
      }
      for (const k of keys) {
        const sensors = now.get(k)?.size ?? 0;
        const c = count[k] as { sensors: number; samples: number; onsets: number };
        c.sensors += sensors;
        if (sensors > 0) {
          c.samples++;
          if (!held.has(k)) c.onsets++;
          held.add(k);
        } else {
          held.delete(k);
        }
      }
    }
  }
  const judged = limits.sigma.filter((s) => Number.isFinite(s) && s > 0).length;
  const rate = (k: string): RuleRate => {
    const c = count[k] as { sensors: number; samples: number; onsets: number };
    return {
      sensorRate: samples * judged > 0 ? c.sensors / (samples * judged) : 0,
      sampleRate: samples > 0 ? c.samples / samples : 0,
      onsetRate: samples > 0 ? c.onsets / samples : 0,
    };
  };
  return {
    samples,
    judged,
    rules: Object.fromEntries(SPC_RULES.map((r) => [r, rate(r)])) as Record<SpcRule, RuleRate>,
    any: rate('any'),
  };
}
