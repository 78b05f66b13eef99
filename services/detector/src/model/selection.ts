import { lagSpecOf, project, standardize, type PcaModel } from './pca.js';
import { lag1Autocorrelation } from './stats.js';

/** Why a sensor was left out of a model, with the number that decided it. */
export interface ExcludedSensor {
  sensor: string;
  reason: 'constant' | 'drift';
  /** constant: the sensor's std; drift: the mean shift between the first and last third, in pooled stds. */
  value: number;
}

/**
 * A sensor whose mean moves by more than this many pooled standard deviations between the first and the last
 * third of its normal data is drifting. Half a standard deviation: a model fitted on the early data sees the late
 * data of that sensor shifted by that much, in a residual space where one sensor's noise is a fraction of its std,
 * so the held-out calibration widens the limits for every sensor to absorb it. One drifting sensor would blunt
 * the whole model; leaving it out costs only its own coverage. On simulated normal data no sensor of any context
 * moves by more than 0.1.
 */
export const DRIFT_SHIFT = 0.5;
/**
 * The shift must also stand out from how far slow, autocorrelated (but stationary) wander moves a third's mean:
 * z > 4 with the standard error inflated by the lag-1 autocorrelation ρ, n_eff = n(1−ρ)/(1+ρ) per third.
 */
export const DRIFT_Z = 4;
/** Std below this share of |mean| (or absolute, near 0) is a constant sensor: it carries nothing to model. */
const CONSTANT_STD = 1e-9;

function meanVar(values: readonly number[]): { mean: number; variance: number } {
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  return { mean, variance: values.reduce((s, v) => s + (v - mean) ** 2, 0) / Math.max(1, values.length - 1) };
}

/**
 * Sensors to leave out of a model, judged on normal rows alone (in time order): constant ones, and ones whose mean
 * moves between the first and last third of the data by more than DRIFT_SHIFT pooled stds and DRIFT_Z standard
 * errors. A steady trend shows the same way, as the two thirds are its two ends.
 */
export function screenSensors(features: readonly string[], rows: readonly (readonly number[])[]): { keep: number[]; excluded: ExcludedSensor[] } {
  const keep: number[] = [];
  const excluded: ExcludedSensor[] = [];
  const third = Math.floor(rows.length / 3);
  features.forEach((sensor, j) => {
    const column = rows.map((r) => r[j] as number);
    const all = meanVar(column);
    const std = Math.sqrt(all.variance);
    if (!(std > CONSTANT_STD * Math.max(1, Math.abs(all.mean)))) {
      excluded.push({ sensor, reason: 'constant', value: std });
      return;
    }
    if (third >= 10) {
      const first = meanVar(column.slice(0, third));
      const last = meanVar(column.slice(rows.length - third));
      const pooled = Math.sqrt((first.variance + last.variance) / 2);
      const rho = Math.min(0.99, Math.max(0, lag1Autocorrelation(column)));
      const nEff = (third * (1 - rho)) / (1 + rho);
      const shift = Math.abs(last.mean - first.mean);
      const standardError = pooled * Math.sqrt(2 / Math.max(1, nEff));
      if (pooled > 0 && shift > DRIFT_SHIFT * pooled && shift > DRIFT_Z * standardError) {
        excluded.push({ sensor, reason: 'drift', value: shift / pooled });
        return;
      }
    }
    keep.push(j);
  });
  return { keep, excluded };
}

/**
 * Size of the probe step, in each sensor's short-term σ: small enough that a model can miss it. Short-term σ is
 * the SPC individuals-chart estimate from the median moving range, median |x_t − x_t−1| / 0.954: it measures the
 * snapshot-to-snapshot noise and leaves out the slow wander and the set-point spread within a context, which a
 * total std would count, and (being a median) the few large moves of a step's start-up transient. That is the
 * scale in which a fault is "small", and the one the simulator injects faults in.
 */
export const PROBE_SIGMA = 3;
/** Median of |X1 − X2| for independent normal X with σ = 1: √2 · 0.6745. */
const MEDIAN_MOVING_RANGE = 0.9539;

/** Short-term σ per sensor from consecutive rows (same segment); the plain std where that says nothing. */
export function shortTermStd(rows: readonly (readonly number[])[], segments: readonly number[] | undefined, nFeatures: number): number[] {
  return Array.from({ length: nFeatures }, (_, j) => {
    const ranges: number[] = [];
    for (let i = 1; i < rows.length; i++) {
      if (segments && segments[i] !== segments[i - 1]) continue;
      ranges.push(Math.abs((rows[i]![j] as number) - (rows[i - 1]![j] as number)));
    }
    ranges.sort((a, b) => a - b);
    const estimate = (ranges[Math.floor(ranges.length / 2)] ?? 0) / MEDIAN_MOVING_RANGE;
    return estimate > 0 ? estimate : Math.sqrt(meanVar(rows.map((r) => r[j] as number)).variance);
  });
}

/**
 * Snapshots after the step's onset that the probe averages over. A smoothed model sees only a fraction of a new
 * step in its first snapshots, and a lagged one sees it in its current lags only; averaging over the first 8 (two
 * of the longest smoothing window) charges each for its delay, as the alarm logic wants a few snapshots in a row.
 */
export const PROBE_HORIZON = 8;
/** Held-out windows the probe scores, evenly spaced (the sum over sensors, onsets and signs multiplies it). */
const PROBE_WINDOWS = 400;

/**
 * Detection rate of a small step on one sensor, from normal held-out windows alone: every sensor j in turn is
 * shifted by ±size[j] (PROBE_SIGMA short-term σ) from onset offsets 0 … PROBE_HORIZON−1 before the window's current snapshot, and a
 * probe counts when the model's score passes its calibrated limit. Multiplied by the model's coverage, as a
 * snapshot in a window's warm-up is not scored at all. All candidates are calibrated to the same target false-alarm
 * rate on the same held-out data, so this compares their power at equal false alarms.
 *
 * A shift moves the PCA variables linearly (`standardize` without centring), so each window is projected once
 * and each probe adds its precomputed shift in score and residual space.
 */
export function stepSensitivity(model: PcaModel, windows: readonly (readonly number[])[], size: readonly number[]): number {
  if (windows.length === 0) return 0;
  const { lags } = lagSpecOf(model);
  const nFeatures = model.features.length;
  const k = model.components;
  const stride = Math.max(1, Math.floor(windows.length / PROBE_WINDOWS));
  const base = windows.filter((_, i) => i % stride === 0).map((w) => project(model, standardize(model, w)));
  let detected = 0;
  let weight = 0;
  for (let j = 0; j < nFeatures; j++) {
    for (let onset = 0; onset < Math.min(PROBE_HORIZON, lags + 1); onset++) {
      // Every onset beyond the window shifts all of it alike: one probe stands for all of them.
      const times = onset === lags ? PROBE_HORIZON - lags : 1;
      const shift = new Array<number>(nFeatures * (lags + 1)).fill(0);
      for (let l = 0; l <= onset; l++) shift[l * nFeatures + j] = size[j] as number;
      const moved = project(model, standardize(model, shift, false));
      for (const sign of [1, -1]) {
        for (const { t, residual } of base) {
          let t2 = 0;
          for (let c = 0; c < k; c++) t2 += ((t[c] as number) + sign * (moved.t[c] as number)) ** 2 / (model.eigenvalues[c] as number);
          let spe = 0;
          for (let a = 0; a < residual.length; a++) spe += ((residual[a] as number) + sign * (moved.residual[a] as number)) ** 2;
          if (t2 > model.t2Limit || spe > model.speLimit) detected += times;
          weight += times;
        }
      }
    }
  }
  return (model.coverage ?? 1) * (detected / weight);
}
