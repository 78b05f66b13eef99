import { strongPairs } from '../explain/broken-correlations.js';
import { learnSpcLimits } from '../spc/limits.js';
import { ModelMetadataSchema, type ModelMetadata } from '@linewatch/protocol';
import { contextLabel, type ModelContext } from './context.js';
import { isStatic, pcaLags, specFor, stackWindow, type LagSpec } from './lagged.js';
import { exportPcaOnnx } from './onnx-export.js';
import { fitPca, lagSpecOf, splitWindows, type PcaModel, type PcaOptions } from './pca.js';
import { PROBE_HORIZON, PROBE_SIGMA, screenSensors, shortTermStd, stepSensitivity, type ExcludedSensor } from './selection.js';

export { scoreRowsTs } from './pca.js';

/** pca: one (smoothed) snapshot at a time; dpca: the PCA also sees 1 or 2 earlier ones; auto: whichever detects best. */
export type Family = 'pca' | 'dpca' | 'auto';

export interface TrainOptions extends Omit<PcaOptions, 'lags' | 'smoothing'> {
  /** Station type (or station id) the model scores; recorded as `stationType`. */
  stationType: string;
  /** The (recipe, step) this model is the baseline for; `{}` for idle; absent for the station type's fallback. */
  context?: ModelContext;
  /** Fixed for reproducible files in tests; defaults to now. */
  trainedAt?: Date;
  /** Default 'pca': a static model any detector can score one snapshot at a time. */
  family?: Family;
  /** Snapshots averaged before the PCA, or 'auto' to choose among SMOOTHING_CHOICES. Default 1. */
  smoothing?: number | 'auto';
  /** Leave out constant and drifting sensors (selection.ts); default true. */
  screen?: boolean;
  /** Time between the training snapshots (ms), recorded as `lagPeriodMs` on a lagged model so any rate reads the same past. */
  samplePeriodMs?: number;
}

/** One setting training tried, with how it did on the held-out normal data. */
export interface Candidate {
  family: 'pca' | 'dpca';
  lags: number;
  smoothing: number;
  /** Detection rate of a ±PROBE_SIGMA step on one sensor (selection.ts `stepSensitivity`). */
  sensitivity: number;
  /** Held-out rate of the score at the calibrated limits, and the split-half estimate. */
  far: number;
  splitHalf: number;
  coverage: number;
}

/** Every choice training made, recorded in the model file (`selection`) and the summary line. */
export interface Selection {
  excluded: ExcludedSensor[];
  candidates: Candidate[];
  /** Index into candidates. */
  chosen: number;
}

export interface TrainedPca {
  model: PcaModel;
  metadata: ModelMetadata;
  onnx: Uint8Array;
  /** What trainPca chose and why; absent on a model trained some other way. */
  selection?: Selection;
}

/** The score is a ratio to the control limits, so the decision threshold is always 1. */
export const PCA_THRESHOLD = 1;
/**
 * Lags the PCA itself models, per family. On the largest contexts of simulated etch, cmp and litho, 3 or 4 lags
 * without smoothing reached at most 15% step sensitivity (static: 1–5%), against 12–33% for 4-snapshot smoothing
 * alone; lags on top of smoothing lowered it. Two keep the candidates cheap without giving up a winner.
 */
export const PCA_LAG_CHOICES: Record<Family, number[]> = { pca: [0], dpca: [1, 2], auto: [0, 1, 2] };
/**
 * Powers of two up to 4 snapshots: noise shrinks by √w, the delay grows by w. On the same six contexts 8 snapshots
 * scored below 4 in every one (11–16% against 12–33%): the warm-up and the delay cost more than the quieter mean.
 */
export const SMOOTHING_CHOICES = [1, 2, 4];
/**
 * A more complex candidate (more lags, more smoothing) must beat the simplest one within this much sensitivity:
 * at 400 windows × F sensors × 2 signs × 8 onsets the rate is known to well within it, and ties go to the model
 * with the shorter warm-up and fewer parameters.
 */
export const SENSITIVITY_TOLERANCE = 0.01;

function familyOf(spec: LagSpec): 'pca' | 'dpca' {
  return pcaLags(spec) > 0 ? 'dpca' : 'pca';
}

/** The settings to try, simplest first. */
function candidateSpecs(family: Family, smoothing: number | 'auto'): LagSpec[] {
  const windows = smoothing === 'auto' ? SMOOTHING_CHOICES : [smoothing];
  return PCA_LAG_CHOICES[family]
    .flatMap((d) => windows.map((w) => specFor(d, w)))
    .sort((a, b) => a.lags - b.lags || a.smoothing - b.smoothing);
}

/**
 * Fits a PCA monitor on normal rows (raw values, `features` order, in time order) and exports it as ONNX. Pure.
 * Chooses its own settings from those rows: leaves out constant and drifting sensors, fits every candidate
 * (family × smoothing), calibrates each to the target false-alarm rate on the held-out tail, and keeps the
 * simplest whose sensitivity to a small step is within SENSITIVITY_TOLERANCE of the best.
 */
/** SPC limits (learned as an individuals chart) and the strongly correlated pairs of the normal rows. */
function spcAndPairs(features: string[], rows: number[][]): Pick<ModelMetadata, 'spcCenter' | 'spcSigma' | 'pairs'> {
  if (rows.length < 2) return {};
  const limits = learnSpcLimits(rows);
  const round = (v: number): number => Number(v.toPrecision(7));
  return {
    spcCenter: limits.center.map(round),
    spcSigma: limits.sigma.map(round),
    pairs: strongPairs(features, rows, { max: 50 }).map(([i, j, r]) => [i, j, Math.round(r * 1e4) / 1e4] as [number, number, number]),
  };
}

export function trainPca(features: string[], rows: number[][], opts: TrainOptions): TrainedPca & { selection: Selection } {
  const { family = 'pca', smoothing = 1, screen = true } = opts;
  const screened = screen ? screenSensors(features, rows) : { keep: features.map((_, j) => j), excluded: [] };
  // A context with fewer than two usable sensors still gets a model of all of them rather than none.
  const { keep, excluded } = screened.keep.length >= 2 ? screened : { keep: features.map((_, j) => j), excluded: [] };
  const kept = keep.map((j) => features[j] as string);
  const keptRows = excluded.length > 0 ? rows.map((r) => keep.map((j) => r[j] as number)) : rows;

  const { split } = splitWindows(keptRows.length, opts);
  const training = keptRows.slice(0, split);
  const probe = shortTermStd(training, opts.segments, kept.length).map((s) => PROBE_SIGMA * s);
  const fits: { model: PcaModel; candidate: Candidate }[] = [];
  let firstError: unknown;
  for (const spec of candidateSpecs(family, smoothing)) {
    let model: PcaModel;
    try {
      model = fitPca(kept, keptRows, { ...opts, ...spec });
    } catch (err) {
      // Too few full windows for this many lags: the simpler candidates stand.
      firstError ??= err;
      continue;
    }
    const { holdoutEnds } = splitWindows(keptRows.length, { ...opts, ...spec });
    const sensitivity = stepSensitivity(model, holdoutEnds.map((i) => stackWindow(keptRows, i, spec.lags)), probe);
    const h = model.holdout;
    fits.push({
      model,
      candidate: { family: familyOf(spec), ...spec, sensitivity, far: h.score, splitHalf: h.splitHalf ?? NaN, coverage: model.coverage ?? 1 },
    });
  }
  if (fits.length === 0) throw firstError instanceof Error ? firstError : new Error('no candidate model could be fitted');
  const best = Math.max(...fits.map((f) => f.candidate.sensitivity));
  const chosen = fits.findIndex((f) => f.candidate.sensitivity >= best - SENSITIVITY_TOLERANCE);
  const model = (fits[chosen] as (typeof fits)[number]).model;
  const selection: Selection = { excluded, candidates: fits.map((f) => f.candidate), chosen };
  return { model, selection, ...exportModel(model, selection, opts, spcAndPairs(kept, keptRows)) };
}

function exportModel(
  model: PcaModel,
  selection: Selection,
  opts: TrainOptions,
  explain: Pick<ModelMetadata, 'spcCenter' | 'spcSigma' | 'pairs'>,
): { metadata: ModelMetadata; onnx: Uint8Array } {
  const spec = lagSpecOf(model);
  const family = familyOf(spec);
  const trainedAt = (opts.trainedAt ?? new Date()).toISOString();
  const metadata = ModelMetadataSchema.parse({
    contract: 'linewatch.model/1',
    family,
    // Unique per context, so every decision names the baseline it was judged against.
    version: `${opts.stationType}-${family}@${trainedAt}${opts.context ? `#${contextLabel(opts.context)}` : ''}`,
    stationType: opts.stationType,
    ...(opts.context ? { context: opts.context } : {}),
    features: model.features,
    mean: model.mean,
    std: model.std,
    threshold: PCA_THRESHOLD,
    t2Limit: model.t2Limit,
    speLimit: model.speLimit,
    components: model.components,
    alpha: model.alpha,
    ...(isStatic(spec) ? {} : spec),
    ...(spec.lags > 0 && opts.samplePeriodMs ? { lagPeriodMs: opts.samplePeriodMs } : {}),
    trainedAt,
    trainingSamples: model.trainingSamples,
    // SPC run rules and broken-correlation explanations work on single snapshots of the kept sensors.
    ...explain,
  } satisfies ModelMetadata);
  // Extra keys outside the contract: how the settings and limits were reached, for whoever audits a model file.
  const extra: Record<string, string> = {
    explainedVariance: String(model.explainedVariance),
    eigenvalues: JSON.stringify(model.eigenvalues),
    t2LimitTheoretical: String(model.t2LimitTheoretical),
    speLimitTheoretical: String(model.speLimitTheoretical),
    holdoutSamples: String(model.holdoutSamples),
    holdoutExceedance: JSON.stringify(model.holdout),
    excludedSensors: JSON.stringify(selection.excluded),
    candidates: JSON.stringify(selection.candidates),
    selectionCriterion: `simplest candidate within ${SENSITIVITY_TOLERANCE} of the best held-out detection of a ±${PROBE_SIGMA}σ one-sensor step over its first ${PROBE_HORIZON} snapshots, all at the calibrated target false-alarm rate`,
  };
  return { metadata, onnx: exportPcaOnnx(model, metadata, extra) };
}

/** One line per model for the CLI and logs. */
export function summarise(metadata: ModelMetadata, model: PcaModel, selection?: Selection): string {
  const pct = (v: number): string => `${(v * 100).toFixed(3)}%`;
  const h = model.holdout;
  const { lags, smoothing } = lagSpecOf(model);
  const chosen = selection?.candidates[selection.chosen];
  return [
    `${metadata.stationType}${metadata.context ? ` [${contextLabel(metadata.context)}]` : ' [fallback]'}: ${metadata.family} L=${lags} w=${smoothing} k=${model.components}/${model.loadings.length}`,
    ...(selection
      ? [`excluded=${selection.excluded.length === 0 ? 'none' : selection.excluded.map((e) => `${e.sensor}(${e.reason} ${e.value.toPrecision(3)})`).join(',')}`]
      : []),
    `explained=${pct(model.explainedVariance)}`,
    `T2lim=${model.t2Limit.toPrecision(5)} (theory ${model.t2LimitTheoretical.toPrecision(5)})`,
    `SPElim=${model.speLimit.toPrecision(5)} (theory ${model.speLimitTheoretical.toPrecision(5)})`,
    `held-out n=${model.holdoutSamples} target ${pct(h.target ?? 1 - model.alpha)} (${h.method ?? 'theory'}): exceed T2 ${pct(h.t2Theoretical)}→${pct(h.t2)}, SPE ${pct(h.speTheoretical)}→${pct(h.spe)}, score ${pct(h.score)}, split-half ${pct(h.splitHalf ?? NaN)}`,
    ...(chosen && selection
      ? [`sens${PROBE_SIGMA}σ=${pct(chosen.sensitivity)} of ${selection.candidates.map((c) => `L${c.lags}w${c.smoothing}:${(c.sensitivity * 100).toFixed(1)}`).join(' ')}`]
      : []),
    `train n=${model.trainingSamples}`,
  ].join(' | ');
}
