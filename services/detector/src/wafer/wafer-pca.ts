import { Matrix, SVD } from 'ml-matrix';
import { chi2Quantile, empiricalQuantile } from '../model/stats.js';
import type { PcaModel } from '../model/pca.js';

/**
 * Wafer-level PCA: one row per wafer (its step's indicators), so there are often fewer rows than features
 * (100 wafers, 40 indicators or more). The theoretical T² and SPE limits assume many more rows than features and
 * independent Gaussian rows, and are far off here (they flag every wafer on the LAM data). The limits come from
 * leave-one-wafer-out instead: each training wafer is scored by a model fitted without it, so no wafer sets its
 * own limit, and the limit is a quantile of those honest scores.
 */
export interface WaferFitOptions {
  /** Keep the fewest components whose cumulative variance reaches this fraction (as the sample-wise PCA does). */
  varianceTarget?: number;
  /** Per-step quantile of the leave-one-out scores that becomes the limit: 0.98 → about 2% of normal wafers per step. */
  quantile?: number;
}

/** One normal wafer's step: its raw indicators and the baseline of its period (what its tool looked like then). */
export interface WaferRow {
  values: Float64Array;
  baseline: Float64Array;
  /** One of the wafers the baseline was taken from: it is not scored for the limits (it set its own centre). */
  inBaseline: boolean;
}

export interface WaferFit {
  model: PcaModel;
  /** Indicators that half the training wafers share exactly (no spread around their median), left out of the model. */
  constant: string[];
  /** Leave-one-out scores (score = max(T²/T²lim, SPE/SPElim)) of the wafers the limit was set on. */
  looScores: number[];
}

interface Basis {
  std: Float64Array;
  loadings: Matrix;
  lambda: number[];
  k: number;
}

const f32 = Math.fround;
const STD_FLOOR = 1e-6;
/** Leave-one-out scores needed above an empirical quantile before it is trusted over the fitted tail. */
const MIN_TAIL_WAFERS = 10;

function fitBasis(z: Matrix, varianceTarget: number): Basis {
  const n = z.rows;
  const svd = new SVD(z, { computeLeftSingularVectors: false, autoTranspose: true });
  const lambda = svd.diagonal.map((s) => (s * s) / Math.max(1, n - 1));
  const total = lambda.reduce((a, b) => a + b, 0);
  const kMax = Math.max(1, Math.min(n - 2, z.columns - 1, lambda.length));
  let k = 1;
  let cumulative = lambda[0] ?? 0;
  while (k < kMax && cumulative < varianceTarget * total) cumulative += lambda[k++] ?? 0;
  const loadings = svd.rightSingularVectors.subMatrix(0, z.columns - 1, 0, k - 1);
  return { std: new Float64Array(), loadings, lambda: lambda.map((v) => Math.max(v, 1e-9)), k };
}

/** T² and SPE of one standardised row against a basis. */
function statistics(basis: Basis, z: ArrayLike<number>): { t2: number; spe: number } {
  const { loadings: p, lambda, k } = basis;
  const width = p.rows;
  const t = new Float64Array(k);
  for (let j = 0; j < width; j++) for (let a = 0; a < k; a++) t[a]! += (z[j] as number) * p.get(j, a);
  let t2 = 0;
  for (let a = 0; a < k; a++) t2 += (t[a] as number) ** 2 / (lambda[a] as number);
  let spe = 0;
  for (let j = 0; j < width; j++) {
    let zHat = 0;
    for (let a = 0; a < k; a++) zHat += p.get(j, a) * (t[a] as number);
    spe += ((z[j] as number) - zHat) ** 2;
  }
  return { t2, spe };
}

function standardise(rows: WaferRow[], keep: number[]): { z: Matrix; std: Float64Array } {
  const n = rows.length;
  const std = new Float64Array(keep.length);
  const centred = rows.map((r) => keep.map((j) => (r.values[j] as number) - (r.baseline[j] as number)));
  keep.forEach((_, c) => {
    const m = centred.reduce((s, r) => s + (r[c] as number), 0) / n;
    const sd = Math.sqrt(centred.reduce((s, r) => s + ((r[c] as number) - m) ** 2, 0) / Math.max(1, n - 1));
    // An indicator can be constant in a leave-one-out subset (only the left-out wafer moved it): floor it, so the
    // left-out wafer scores as the outlier it is instead of as NaN.
    std[c] = Math.max(sd, STD_FLOOR * Math.max(1, Math.abs(m)));
  });
  // Centred on the baseline, not on the rows' mean: the model measures distance from what the tool looked like
  // after its last PM, which is what a re-baseline resets.
  return { z: new Matrix(centred.map((r) => r.map((v, c) => v / (std[c] as number)))), std };
}

/**
 * Fits a wafer model over `features` (indicator names). `reference` is the baseline the model is centred on
 * (normally the latest period's): the file's `mean`, which a re-baseline later replaces.
 */
export function fitWaferPca(features: readonly string[], rows: WaferRow[], reference: Float64Array, opts: WaferFitOptions = {}): WaferFit {
  const varianceTarget = opts.varianceTarget ?? 0.9;
  const quantile = opts.quantile ?? 0.98;
  if (rows.length < 8) throw new Error(`a wafer model needs at least 8 normal wafers, got ${rows.length}`);
  // An indicator that half the normal wafers share exactly (a reflected power that reads 0 but for rare bursts) is
  // not a measurement with a spread but a rare event: its few non-zero wafers would set the limits of everything.
  const spread = features.map((_, j) => {
    const v = rows.map((r) => r.values[j] as number).sort((a, b) => a - b);
    const median = v[Math.floor(v.length / 2)] as number;
    const deviations = v.map((x) => Math.abs(x - median)).sort((a, b) => a - b);
    return deviations[Math.floor(deviations.length / 2)] as number;
  });
  const keep = features.flatMap((_, j) => ((spread[j] as number) > 0 ? [j] : []));
  const constant = features.filter((_, j) => !((spread[j] as number) > 0));
  if (keep.length < 2) throw new Error(`a wafer model needs at least 2 indicators that vary, got ${keep.length}`);

  const fitOn = (subset: WaferRow[]): Basis => {
    const { z, std } = standardise(subset, keep);
    return { ...fitBasis(z, varianceTarget), std };
  };
  const zOf = (basis: Basis, row: WaferRow): Float64Array =>
    Float64Array.from(keep, (j, c) => ((row.values[j] as number) - (row.baseline[j] as number)) / (basis.std[c] as number));

  // Leave one wafer out; the baseline wafers are scored only when too few others remain.
  const judged = rows.filter((r) => !r.inBaseline).length >= 20 ? rows.map((r) => !r.inBaseline) : rows.map(() => true);
  const loo: { t2: number; spe: number }[] = [];
  rows.forEach((row, i) => {
    if (!judged[i]) return;
    const basis = fitOn(rows.filter((_, r) => r !== i));
    loo.push(statistics(basis, zOf(basis, row)));
  });
  // Each statistic is put on the scale of its own tail: a scaled χ² fitted to its leave-one-out values by moments
  // (g·χ²_h, g = var/2mean, h = 2mean²/var), at half the allowed rate each. Scaling by medians instead let a
  // heavy-tailed T² set the limit and left SPE's far out when there are more indicators than wafers. One factor,
  // measured where the data can say (an empirical quantile with at least 10 wafers above it), corrects the fit
  // for both; beyond that quantile the fitted χ² extrapolates, which a target of 1 false wafer in 1000 needs.
  const measurable = Math.min(quantile, 1 - MIN_TAIL_WAFERS / loo.length);
  const fitT2 = scaledChi2(loo.map((s) => s.t2));
  const fitSpe = scaledChi2(loo.map((s) => s.spe));
  const half = (q: number): number => 1 - (1 - q) / 2;
  const c = empiricalQuantile(loo.map((s) => Math.max(s.t2 / fitT2(half(measurable)), s.spe / fitSpe(half(measurable)))), measurable);
  const t2Limit = fitT2(half(quantile)) * c;
  const speLimit = fitSpe(half(quantile)) * c;
  const combined = loo.map((s) => Math.max(s.t2 / t2Limit, s.spe / speLimit));

  const basis = fitOn(rows);
  const kept = keep.map((j) => features[j] as string);
  const model: PcaModel = {
    features: kept,
    mean: keep.map((j) => f32(reference[j] as number)),
    std: Array.from(basis.std, f32),
    loadings: keep.map((_, c2) => Array.from({ length: basis.k }, (_, a) => f32(basis.loadings.get(c2, a)))),
    eigenvalues: basis.lambda.map(f32),
    components: basis.k,
    explainedVariance: basis.lambda.slice(0, basis.k).reduce((a, b) => a + b, 0) / basis.lambda.reduce((a, b) => a + b, 0),
    alpha: quantile,
    t2Limit: f32(t2Limit),
    speLimit: f32(speLimit),
    t2LimitTheoretical: Number.NaN,
    speLimitTheoretical: Number.NaN,
    trainingSamples: rows.length,
    holdoutSamples: loo.length,
    holdout: { t2Theoretical: Number.NaN, speTheoretical: Number.NaN, t2: Number.NaN, spe: Number.NaN, score: combined.filter((v) => v > 1).length / combined.length },
  };
  return { model, constant, looScores: combined };
}

/** The quantile function of g·χ²_h matched to the mean and variance of `values`. */
function scaledChi2(values: number[]): (p: number) => number {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, values.length - 1);
  if (!(mean > 0) || !(variance > 0)) return () => Math.max(mean, 1e-9);
  const g = variance / (2 * mean);
  const h = (2 * mean * mean) / variance;
  return (p) => g * chi2Quantile(h, p);
}
