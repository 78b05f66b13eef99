/** The PCA monitoring model and its plain-TS scorer: the reference the ONNX graph (onnx-export.ts) is tested against. */
import type { CalibrationMethod } from './calibration.js';
import type { LagSpec } from './lagged.js';

/** How the limits did on the held-out normal windows (exceedance rates). */
export interface HoldoutReport {
  /** The target per-sample false-alarm rate of the score, 1 − alpha. */
  target?: number;
  method?: CalibrationMethod;
  /** Effectively independent held-out rows (calibration.ts `effectiveCount` of the theory-limit score). */
  effectiveRows?: number;
  t2Theoretical: number;
  speTheoretical: number;
  t2: number;
  spe: number;
  /** The score's rate at the final limits: at most the target when calibrated (to the 1/n resolution of n rows). */
  score: number;
  /** Limits calibrated on the first half of the held-out windows, applied to the second: an unfitted estimate. */
  splitHalf?: number;
}

/**
 * What `standardize` needs; a PcaModel has it. The lag fields are optional so a model built elsewhere (a static
 * PCA from another trainer) need not spell them out: absent lags, smoothing, lagMean, lagStd mean 0, 1, 0s, 1s.
 */
export interface Standardizer {
  lags?: number;
  smoothing?: number;
  /** Per sensor (F): raw mean and std of the training rows. */
  mean: number[];
  std: number[];
  /** Per PCA variable (F·(d+1), lag-major): mean and std of the smoothed, lagged z values; absent when static. */
  lagMean?: number[];
  lagStd?: number[];
}

/** A fitted PCA monitoring model. Scoring parameters are rounded to float32 so the ONNX graph and TS agree. */
export interface PcaModel extends Standardizer {
  features: string[];
  /** p × k loadings over the PCA variables; row b·F+j belongs to sensor j at smoothed lag b. */
  loadings: number[][];
  /** All p eigenvalues of the correlation matrix, descending. */
  eigenvalues: number[];
  components: number;
  /** Fraction of the total variance the retained components explain. */
  explainedVariance: number;
  alpha: number;
  t2Limit: number;
  speLimit: number;
  /** The limits before calibration (F distribution for T², Box's g·χ²_h for SPE), each at half the target. */
  t2LimitTheoretical: number;
  speLimitTheoretical: number;
  /** Full lag windows fitted on / held out. */
  trainingSamples: number;
  holdoutSamples: number;
  /** Share of the held-out rows that end a full window; the rest fall in a window's warm-up and go unscored. */
  coverage?: number;
  holdout: HoldoutReport;
}

/** The lag spec of a model, defaults filled in. */
export function lagSpecOf(model: Standardizer): LagSpec {
  return { lags: model.lags ?? 0, smoothing: model.smoothing ?? 1 };
}

export interface PcaScore {
  score: number;
  t2: number;
  spe: number;
  contrib: number[];
  expected: number[];
}

/** Added to every contribution before normalising so an all-zero row splits evenly instead of 0/0. */
export const CONTRIB_EPS = 1e-12;

/**
 * The PCA variables of one input row (F·(L+1) raw values, current snapshot first): each sensor standardised,
 * averaged over `smoothing` snapshots for each of the d+1 lags, standardised again. With `centred` false it maps
 * a difference of inputs instead (no means subtracted), which is how a shift of the input moves the variables.
 */
export function standardize(model: Standardizer, row: readonly number[], centred = true): number[] {
  const { mean, std } = model;
  const { lags, smoothing } = lagSpecOf(model);
  const nFeatures = mean.length;
  const z = (l: number, j: number): number => ((row[l * nFeatures + j] as number) - (centred ? (mean[j] as number) : 0)) / (std[j] as number);
  if (lags === 0 && smoothing === 1) return Array.from({ length: nFeatures }, (_, j) => z(0, j));
  const { lagMean = [], lagStd = [] } = model;
  const blocks = lags - smoothing + 2;
  const out = new Array<number>(blocks * nFeatures);
  for (let b = 0; b < blocks; b++) {
    for (let j = 0; j < nFeatures; j++) {
      let sum = 0;
      for (let m = 0; m < smoothing; m++) sum += z(b + m, j);
      const a = b * nFeatures + j;
      out[a] = (sum / smoothing - (centred ? (lagMean[a] ?? 0) : 0)) / (lagStd[a] ?? 1);
    }
  }
  return out;
}

/** Scores t = zP, reconstruction ẑ = tPᵀ and residual z − ẑ of standardised variables. */
export function project(model: PcaModel, z: readonly number[]): { t: number[]; zHat: number[]; residual: number[] } {
  const k = model.components;
  const t = new Array<number>(k).fill(0);
  z.forEach((v, a) => {
    const p = model.loadings[a] as number[];
    for (let c = 0; c < k; c++) t[c]! += v * (p[c] as number);
  });
  const zHat = model.loadings.map((p) => p.reduce((s, v, c) => s + v * (t[c] as number), 0));
  return { t, zHat, residual: z.map((v, a) => v - (zHat[a] as number)) };
}

/** T² and SPE of one input row. */
export function statistics(model: PcaModel, row: readonly number[]): { t2: number; spe: number } {
  const { t, residual } = project(model, standardize(model, row));
  return { t2: t.reduce((s, v, c) => s + (v * v) / (model.eigenvalues[c] as number), 0), spe: residual.reduce((s, r) => s + r * r, 0) };
}

/**
 * Scores rows in plain TS, the reference the ONNX graph is tested against.
 * Contributions: the SPE part r²/SPElim and the T² part z·(PΛ⁻¹t)/T²lim of each variable each sum to their
 * statistic's ratio, so adding them weights each statistic by how far it is over its limit. A negative T² part
 * means the variable pulls the point back towards normal; it is clamped to 0 (before adding, so it cannot hide a
 * residual). The parts of a sensor's lags are summed onto the sensor, then the row is normalised to sum 1.
 * `expected` is the reconstruction of the current (smoothed) snapshot in raw units.
 */
export function scoreRowsTs(model: PcaModel, rows: readonly (readonly number[])[]): PcaScore[] {
  const { mean, std, lagMean = [], lagStd = [], loadings } = model;
  const nFeatures = mean.length;
  return rows.map((row) => {
    const z = standardize(model, row);
    const { t, zHat, residual } = project(model, z);
    const tScaled = t.map((v, c) => v / (model.eigenvalues[c] as number));
    const t2 = t.reduce((s, v, c) => s + v * (tScaled[c] as number), 0);
    const spe = residual.reduce((s, r) => s + r * r, 0);
    const folded = new Array<number>(nFeatures).fill(0);
    z.forEach((za, a) => {
      const pull = (loadings[a] as number[]).reduce((s, v, c) => s + v * (tScaled[c] as number), 0);
      folded[a % nFeatures]! += Math.max(0, (za * pull) / model.t2Limit) + (residual[a] as number) ** 2 / model.speLimit;
    });
    const raw = folded.map((v) => v + CONTRIB_EPS);
    const sum = raw.reduce((s, v) => s + v, 0);
    return {
      score: Math.max(t2 / model.t2Limit, spe / model.speLimit),
      t2,
      spe,
      contrib: raw.map((v) => v / sum),
      expected: Array.from({ length: nFeatures }, (_, j) =>
        ((zHat[j] as number) * (lagStd[j] ?? 1) + (lagMean[j] ?? 0)) * (std[j] as number) + (mean[j] as number)),
    };
  });
}
