import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { effectiveCount, exceedance, MIN_EFFECTIVE_ROWS, upperQuantile, type CalibrationMethod } from './calibration.js';
import { checkLagSpec, isStatic, pcaLags, stackWindow, windowEnds } from './lagged.js';
import { standardize, statistics, type PcaModel } from './pca-score.js';
import { chi2Quantile, fQuantile } from './stats.js';

// The model's types and its TS scorer live in pca-score.ts; importers of this module get them here too.
export * from './pca-score.js';

/** Options of a PCA fit; every field has a default. */
export interface PcaOptions {
  /** Confidence of the control limits: the target per-sample false-alarm rate of the score is 1 − alpha. */
  alpha?: number;
  /** Keep the fewest components whose cumulative explained variance reaches this fraction. */
  varianceTarget?: number;
  /** Share of the rows held out (the tail, i.e. later in time) to calibrate the limits. */
  holdoutFraction?: number;
  /** Earlier snapshots in each input row (see lagged.ts); default 0. */
  lags?: number;
  /** Snapshots averaged before the PCA; default 1. */
  smoothing?: number;
  /** Segment id per row (lagged.ts `segmentIds`): a lag window never spans two segments. Default: one segment. */
  segments?: readonly number[];
}

/**
 * Relative std floor: a constant sensor would otherwise divide by zero; with the floor its z stays 0 in
 * training and any later movement shows up as a large residual, which is what a stuck-then-moving sensor deserves.
 */
const STD_FLOOR = 1e-6;
/** Keeps T² finite if a retained eigenvalue is (numerically) zero. */
const LAMBDA_FLOOR = 1e-9;
/** A calibrated limit never goes below this: a statistic that was exactly 0 on every held-out row. */
const LIMIT_FLOOR = 1e-6;

const f32 = Math.fround;

function columnStats(rows: readonly (readonly number[])[], width: number): { mean: number[]; std: number[] } {
  const n = rows.length;
  const mean = Array.from({ length: width }, (_, j) => rows.reduce((s, r) => s + (r[j] as number), 0) / n);
  const std = mean.map((m, j) => Math.sqrt(rows.reduce((s, r) => s + ((r[j] as number) - m) ** 2, 0) / (n - 1)));
  return { mean, std };
}

/** zᵀz/(n−1), accumulating one triangle: p can reach 60 with lags, and ml-matrix's generic product is slow there. */
function correlationOf(z: readonly number[][], p: number): Matrix {
  const acc = new Float64Array(p * p);
  for (const row of z) {
    for (let a = 0; a < p; a++) {
      const va = row[a] as number;
      if (va === 0) continue;
      for (let b = a; b < p; b++) acc[a * p + b]! += va * (row[b] as number);
    }
  }
  const m = new Matrix(p, p);
  for (let a = 0; a < p; a++) {
    for (let b = a; b < p; b++) {
      const v = (acc[a * p + b] as number) / (z.length - 1);
      m.set(a, b, v);
      m.set(b, a, v);
    }
  }
  return m;
}

/**
 * The rows a fit holds out (the last `holdoutFraction`, later in time) and the rows that end a full lag window on
 * either side of the split. A window may reach back across the split: its current snapshot decides its side.
 */
export function splitWindows(n: number, opts: Pick<PcaOptions, 'holdoutFraction' | 'lags' | 'segments'>): { split: number; trainEnds: number[]; holdoutEnds: number[] } {
  const split = n - Math.floor(n * (opts.holdoutFraction ?? 0.2));
  const ends = windowEnds(opts.segments, n, opts.lags ?? 0);
  return { split, trainEnds: ends.filter((i) => i < split), holdoutEnds: ends.filter((i) => i >= split) };
}

export function fitPca(features: string[], rows: number[][], opts: PcaOptions = {}): PcaModel {
  const alpha = opts.alpha ?? 0.999;
  const varianceTarget = opts.varianceTarget ?? 0.9;
  const spec = { lags: opts.lags ?? 0, smoothing: opts.smoothing ?? 1 };
  checkLagSpec(spec);
  const nFeatures = features.length;
  if (nFeatures < 2) throw new Error(`PCA needs at least 2 features, got ${nFeatures}`);
  if (!(alpha > 0 && alpha < 1)) throw new Error(`alpha must be in (0,1), got ${alpha}`);
  rows.forEach((row, i) => {
    if (row.length !== nFeatures) throw new Error(`row ${i} has ${row.length} values, expected ${nFeatures}`);
    if (!row.every(Number.isFinite)) throw new Error(`row ${i} holds a non-finite value`);
  });
  const { split, trainEnds, holdoutEnds } = splitWindows(rows.length, { ...opts, ...spec });
  const nHoldout = rows.length - split;
  if (split < nFeatures + 2) throw new Error(`PCA needs more training rows than features + 1, got ${split}`);

  const raw = columnStats(rows.slice(0, split), nFeatures);
  const mean = raw.mean.map(f32);
  const std = raw.std.map((s, j) => f32(Math.max(s, STD_FLOOR * Math.max(1, Math.abs(raw.mean[j] as number)))));
  const p = nFeatures * (pcaLags(spec) + 1);
  if (trainEnds.length < p + 2) throw new Error(`PCA of ${p} lagged variables needs more than ${p + 1} full training windows, got ${trainEnds.length}`);

  const base = { ...spec, mean, std, lagMean: new Array<number>(p).fill(0), lagStd: new Array<number>(p).fill(1) };
  let z = trainEnds.map((i) => standardize(base, stackWindow(rows, i, spec.lags)));
  if (!isStatic(spec)) {
    // Smoothing shrinks the noise and so the variance of each variable: standardise again for a correlation PCA.
    const lagged = columnStats(z, p);
    base.lagMean = lagged.mean.map(f32);
    base.lagStd = lagged.std.map((s) => f32(Math.max(s, STD_FLOOR)));
    z = z.map((r) => r.map((v, a) => (v - (base.lagMean[a] as number)) / (base.lagStd[a] as number)));
  }
  const n = z.length;
  const evd = new EigenvalueDecomposition(correlationOf(z, p), { assumeSymmetric: true });
  const order = evd.realEigenvalues.map((v, i) => ({ v: Math.max(v, 0), i })).sort((a, b) => b.v - a.v);
  const eigenvalues = order.map((o) => o.v);
  const total = eigenvalues.reduce((s, v) => s + v, 0);

  let components = 1;
  let cumulative = eigenvalues[0] ?? 0;
  while (components < p - 1 && cumulative < varianceTarget * total) cumulative += eigenvalues[components++] ?? 0;

  const vectors = evd.eigenvectorMatrix;
  const columns = order.slice(0, components).map(({ i }) => {
    const col = vectors.getColumn(i);
    // Eigenvectors have no intrinsic sign; make the largest entry positive so refits are comparable.
    const peak = col.reduce((best, v) => (Math.abs(v) > Math.abs(best) ? v : best), 0);
    return col.map((v) => f32(peak < 0 ? -v : v));
  });
  const loadings = Array.from({ length: p }, (_, j) => columns.map((col) => col[j] as number));
  const retained = eigenvalues.slice(0, components).map((v) => f32(Math.max(v, LAMBDA_FLOOR)));

  // The score alarms when either statistic does, so each gets half the false-alarm budget.
  const perStatistic = 1 - (1 - alpha) / 2;
  const t2LimitTheoretical = t2Limit(components, n, perStatistic);
  const speLimitTheoretical = speLimit(eigenvalues.slice(components), perStatistic);
  const draft: PcaModel = {
    features: [...features], ...base, loadings,
    eigenvalues: eigenvalues.map((v, a) => (a < components ? (retained[a] as number) : f32(v))),
    components, explainedVariance: total > 0 ? cumulative / total : 0, alpha,
    t2Limit: f32(t2LimitTheoretical), speLimit: f32(speLimitTheoretical),
    t2LimitTheoretical, speLimitTheoretical, trainingSamples: n, holdoutSamples: holdoutEnds.length,
    coverage: nHoldout > 0 ? holdoutEnds.length / nHoldout : NaN,
    holdout: { target: 1 - alpha, method: 'theory', t2Theoretical: NaN, speTheoretical: NaN, t2: NaN, spe: NaN, score: NaN, splitHalf: NaN },
  };
  return calibrate(draft, holdoutEnds.map((i) => stackWindow(rows, i, spec.lags)));
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

interface Limits {
  t2Limit: number;
  speLimit: number;
  method: CalibrationMethod;
}

/**
 * Limits for a target rate of the score on held-out normal statistics. The theoretical limits assume independent
 * Gaussian rows; real (and simulated) lines are neither, and T² in particular runs heavy where slow disturbances
 * move the process along its components. So each statistic first gets its own held-out quantile at half the
 * target, which splits the false alarms evenly between them whatever their shapes, and then both limits are
 * scaled together until the score (their max) exceeds 1 on the target share of the rows. Below MIN_EFFECTIVE_ROWS
 * the held-out data may raise the theory limits but not lower them.
 */
function calibrateLimits(t2s: readonly number[], spes: readonly number[], theory: Limits, target: number): Limits {
  const t2q = upperQuantile(t2s, target / 2).value;
  const speq = upperQuantile(spes, target / 2).value;
  if (t2q === undefined || speq === undefined) return theory;
  const t2 = Math.max(t2q, LIMIT_FLOOR);
  const spe = Math.max(speq, LIMIT_FLOOR);
  const ratios = t2s.map((v, i) => Math.max(v / t2, (spes[i] as number) / spe));
  const scale = upperQuantile(ratios, target);
  const c = scale.value ?? 1;
  const calibrated = { t2Limit: f32(Math.max(t2 * c, LIMIT_FLOOR)), speLimit: f32(Math.max(spe * c, LIMIT_FLOOR)) };
  if (effectiveCount(ratios) >= MIN_EFFECTIVE_ROWS) return { ...calibrated, method: scale.method };
  return { t2Limit: Math.max(calibrated.t2Limit, theory.t2Limit), speLimit: Math.max(calibrated.speLimit, theory.speLimit), method: 'raise-only' };
}

function calibrate(model: PcaModel, holdout: number[][]): PcaModel {
  if (holdout.length === 0) return model;
  const stats = holdout.map((row) => statistics(model, row));
  const t2s = stats.map((s) => s.t2);
  const spes = stats.map((s) => s.spe);
  const target = 1 - model.alpha;
  const theory: Limits = { t2Limit: model.t2Limit, speLimit: model.speLimit, method: 'theory' };
  const { t2Limit, speLimit, method } = calibrateLimits(t2s, spes, theory, target);
  const scoreRate = (limits: Limits, from: number, to: number): number =>
    exceedance(stats.slice(from, to).map((s) => Math.max(s.t2 / limits.t2Limit, s.spe / limits.speLimit)), 1);
  const half = Math.floor(holdout.length / 2);
  const firstHalf = calibrateLimits(t2s.slice(0, half), spes.slice(0, half), theory, target);
  return {
    ...model, t2Limit, speLimit,
    holdout: {
      target, method, effectiveRows: effectiveCount(stats.map((s) => Math.max(s.t2 / model.t2Limit, s.spe / model.speLimit))),
      t2Theoretical: exceedance(t2s, model.t2Limit), speTheoretical: exceedance(spes, model.speLimit),
      t2: exceedance(t2s, t2Limit), spe: exceedance(spes, speLimit),
      score: scoreRate({ t2Limit, speLimit, method }, 0, holdout.length),
      splitHalf: scoreRate(firstHalf, half, holdout.length),
    },
  };
}

