import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { chi2Quantile, empiricalQuantile, fQuantile } from './stats.js';

/** Options of a PCA fit; every field has a default. */
export interface PcaOptions {
  /** Confidence of the control limits. */
  alpha?: number;
  /** Keep the fewest components whose cumulative explained variance reaches this fraction. */
  varianceTarget?: number;
  /** Share of the rows held out (the tail, i.e. later in time) to calibrate the limits. */
  holdoutFraction?: number;
}

/** A fitted PCA monitoring model. Scoring parameters are rounded to float32 so the ONNX graph and TS agree. */
export interface PcaModel {
  features: string[];
  mean: number[];
  std: number[];
  /** F × k loadings; row j belongs to feature j. */
  loadings: number[][];
  /** All F eigenvalues of the correlation matrix, descending. */
  eigenvalues: number[];
  components: number;
  /** Fraction of the total variance the retained components explain. */
  explainedVariance: number;
  alpha: number;
  t2Limit: number;
  speLimit: number;
  /** The limits before calibration (F distribution for T², Box's g·χ²_h for SPE). */
  t2LimitTheoretical: number;
  speLimitTheoretical: number;
  trainingSamples: number;
  holdoutSamples: number;
  /** Held-out exceedance rates against the theoretical and the final limits. */
  holdout: { t2Theoretical: number; speTheoretical: number; t2: number; spe: number; score: number };
}

export interface PcaScore {
  score: number;
  t2: number;
  spe: number;
  contrib: number[];
  expected: number[];
}

/**
 * Relative std floor: a constant sensor would otherwise divide by zero; with the floor its z stays 0 in
 * training and any later movement shows up as a large residual, which is what a stuck-then-moving sensor deserves.
 */
const STD_FLOOR = 1e-6;
/** Keeps T² finite if a retained eigenvalue is (numerically) zero. */
const LAMBDA_FLOOR = 1e-9;
/** Added to every contribution before normalising so an all-zero row splits evenly instead of 0/0. */
export const CONTRIB_EPS = 1e-12;

const f32 = Math.fround;

export function fitPca(features: string[], rows: number[][], opts: PcaOptions = {}): PcaModel {
  const alpha = opts.alpha ?? 0.999;
  const varianceTarget = opts.varianceTarget ?? 0.9;
  const holdoutFraction = opts.holdoutFraction ?? 0.2;
  const nFeatures = features.length;
  if (nFeatures < 2) throw new Error(`PCA needs at least 2 features, got ${nFeatures}`);
  if (!(alpha > 0 && alpha < 1)) throw new Error(`alpha must be in (0,1), got ${alpha}`);
  rows.forEach((row, i) => {
    if (row.length !== nFeatures) throw new Error(`row ${i} has ${row.length} values, expected ${nFeatures}`);
    if (!row.every(Number.isFinite)) throw new Error(`row ${i} holds a non-finite value`);
  });
  const nHoldout = Math.floor(rows.length * holdoutFraction);
  const train = rows.slice(0, rows.length - nHoldout);
  const holdout = rows.slice(rows.length - nHoldout);
  const n = train.length;
  if (n < nFeatures + 2) throw new Error(`PCA needs more training rows than features + 1, got ${n}`);

  const mean = Array.from({ length: nFeatures }, (_, j) => f32(train.reduce((s, r) => s + (r[j] as number), 0) / n));
  const std = mean.map((m, j) => {
    const ss = train.reduce((s, r) => s + ((r[j] as number) - m) ** 2, 0);
    return f32(Math.max(Math.sqrt(ss / (n - 1)), STD_FLOOR * Math.max(1, Math.abs(m))));
  });
  const z = new Matrix(train.map((r) => r.map((v, j) => (v - (mean[j] as number)) / (std[j] as number))));
  const correlation = z.transpose().mmul(z).div(n - 1);
  const evd = new EigenvalueDecomposition(correlation, { assumeSymmetric: true });
  const order = evd.realEigenvalues.map((v, i) => ({ v: Math.max(v, 0), i })).sort((a, b) => b.v - a.v);
  const eigenvalues = order.map((o) => o.v);
  const total = eigenvalues.reduce((s, v) => s + v, 0);

  let components = 1;
  let cumulative = eigenvalues[0] ?? 0;
  while (components < nFeatures - 1 && cumulative < varianceTarget * total) cumulative += eigenvalues[components++] ?? 0;

  const vectors = evd.eigenvectorMatrix;
  const columns = order.slice(0, components).map(({ i }) => {
    const col = vectors.getColumn(i);
    // Eigenvectors have no intrinsic sign; make the largest entry positive so refits are comparable.
    const peak = col.reduce((best, v) => (Math.abs(v) > Math.abs(best) ? v : best), 0);
    return col.map((v) => f32(peak < 0 ? -v : v));
  });
  const loadings = Array.from({ length: nFeatures }, (_, j) => columns.map((col) => col[j] as number));
  const retained = eigenvalues.slice(0, components).map((v) => f32(Math.max(v, LAMBDA_FLOOR)));

  const t2LimitTheoretical = t2Limit(components, n, alpha);
  const speLimitTheoretical = speLimit(eigenvalues.slice(components), alpha);
  const draft: PcaModel = {
    features: [...features], mean, std, loadings,
    eigenvalues: eigenvalues.map((v, a) => (a < components ? (retained[a] as number) : f32(v))),
    components, explainedVariance: total > 0 ? cumulative / total : 0, alpha,
    t2Limit: f32(t2LimitTheoretical), speLimit: f32(speLimitTheoretical),
    t2LimitTheoretical, speLimitTheoretical, trainingSamples: n, holdoutSamples: holdout.length,
    holdout: { t2Theoretical: NaN, speTheoretical: NaN, t2: NaN, spe: NaN, score: NaN },
  };
  return calibrate(draft, holdout);
}

/** Hotelling T² limit for a new observation: k(n²−1)/(n(n−k))·F_{k,n−k,α}. */
export function t2Limit(k: number, n: number, alpha: number): number {
  return ((k * (n * n - 1)) / (n * (n - k))) * fQuantile(k, n - k, alpha);
}

/** Box's approximation of the SPE (Q) limit: g·χ²_h(α), g = θ₂/θ₁, h = θ₁²/θ₂ over the residual eigenvalues. */
export function speLimit(residualEigenvalues: number[], alpha: number): number {
  const theta1 = residualEigenvalues.reduce((s, v) => s + v, 0);
  const theta2 = residualEigenvalues.reduce((s, v) => s + v * v, 0);
  // A residual space without variance leaves nothing to calibrate against; a tiny limit flags any residual.
  if (!(theta1 > 1e-12 && theta2 > 0)) return 1e-6;
  return (theta2 / theta1) * chi2Quantile((theta1 * theta1) / theta2, alpha);
}

/**
 * The theoretical limits assume independent Gaussian rows; real (and simulated) lines are neither.
 * When the held-out normal rows exceed a limit more often than 1−α, raise it to their empirical α quantile.
 * Limits are never lowered: with few held-out rows the empirical tail is too noisy to tighten on.
 */
function calibrate(model: PcaModel, holdout: number[][]): PcaModel {
  if (holdout.length === 0) return model;
  const scored = scoreRowsTs(model, holdout);
  const t2s = scored.map((s) => s.t2);
  const spes = scored.map((s) => s.spe);
  const rate = (values: number[], limit: number): number => values.filter((v) => v > limit).length / values.length;
  const t2Theoretical = rate(t2s, model.t2Limit);
  const speTheoretical = rate(spes, model.speLimit);
  const allowed = 1 - model.alpha;
  const t2Limit = t2Theoretical > allowed ? f32(empiricalQuantile(t2s, model.alpha)) : model.t2Limit;
  const speLimit = speTheoretical > allowed ? f32(empiricalQuantile(spes, model.alpha)) : model.speLimit;
  const calibrated = { ...model, t2Limit, speLimit };
  const score = rate(scoreRowsTs(calibrated, holdout).map((s) => s.score), 1);
  return { ...calibrated, holdout: { t2Theoretical, speTheoretical, t2: rate(t2s, t2Limit), spe: rate(spes, speLimit), score } };
}

/**
 * Scores rows in plain TS, the reference the ONNX graph is tested against.
 * Contributions: the SPE part r_j²/SPElim and the T² part z_j·(PΛ⁻¹t)_j/T²lim each sum to their statistic's
 * ratio, so adding them weights each statistic by how far it is over its limit. A negative T² part means the
 * sensor pulls the point back towards normal; it is clamped to 0 (before adding, so it cannot hide a
 * residual), then the row is normalised to sum 1.
 */
export function scoreRowsTs(model: PcaModel, rows: readonly (readonly number[])[]): PcaScore[] {
  const { mean, std, loadings, components: k } = model;
  const nFeatures = mean.length;
  return rows.map((row) => {
    const z = row.map((v, j) => (v - (mean[j] as number)) / (std[j] as number));
    const t = new Array<number>(k).fill(0);
    for (let j = 0; j < nFeatures; j++) for (let a = 0; a < k; a++) t[a]! += (z[j] as number) * (loadings[j]![a] as number);
    const tScaled = t.map((v, a) => v / (model.eigenvalues[a] as number));
    const t2 = t.reduce((s, v, a) => s + v * (tScaled[a] as number), 0);
    const zHat = loadings.map((p) => p.reduce((s, v, a) => s + v * (t[a] as number), 0));
    const residual = z.map((v, j) => v - (zHat[j] as number));
    const spe = residual.reduce((s, r) => s + r * r, 0);
    const raw = z.map((zj, j) => {
      const pull = (loadings[j] as number[]).reduce((s, v, a) => s + v * (tScaled[a] as number), 0);
      return Math.max(0, (zj * pull) / model.t2Limit) + (residual[j] as number) ** 2 / model.speLimit + CONTRIB_EPS;
    });
    const sum = raw.reduce((s, v) => s + v, 0);
    return {
      score: Math.max(t2 / model.t2Limit, spe / model.speLimit),
      t2,
      spe,
      contrib: raw.map((v) => v / sum),
      expected: zHat.map((v, j) => v * (std[j] as number) + (mean[j] as number)),
    };
  });
}
