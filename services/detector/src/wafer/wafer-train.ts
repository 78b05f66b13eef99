import { ModelMetadataSchema, type ModelMetadata } from '@linewatch/protocol';
import { contextKey, contextLabel, contextSlug, type ModelContext } from '../model/context.js';
import { exportPcaOnnx } from '../model/onnx-export.js';
import type { SetMember } from '../model/train-set.js';
import { DEFAULT_MODEL_STATS, indicatorNames, indicatorVector, type SensorStat, type StepSummary } from './indicators.js';
import { fitWaferPca, type WaferFitOptions, type WaferRow } from './wafer-pca.js';

/** Every wafer model's family; the detector tells wafer models from sample models by their folder. */
export const WAFER_FAMILY = 'wafer-pca';
/** Share of normal wafers a recipe may flag, unless the throughput asks for less. */
export const DEFAULT_WAFER_FALSE_ALARM_RATE = 0.02;

/** The folder under MODELS_DIR that holds the wafer model sets (`wafer/{type}/{recipe--step}.onnx`). */
export const WAFER_MODELS_DIR = 'wafer';

/** One normal wafer's step, as training sees it. */
export interface WaferStep {
  wafer: string;
  context: ModelContext;
  /**
   * The maintenance period it ran in (e.g. the PM it followed). Each period is centred on its own first
   * `baselineWafers` wafers, as a re-baseline after that PM would: periods weeks apart may differ in level.
   */
  period: string;
  /** Position in the period's run order; defaults to the step's start time. */
  order?: number;
  summary: StepSummary;
}

export interface WaferTrainOptions extends WaferFitOptions {
  stationType: string;
  /**
   * Share of normal wafers a recipe may flag (default DEFAULT_WAFER_FALSE_ALARM_RATE, 2%). Each step's limit takes
   * its share: with S steps judged, the quantile is 1 − rate/S (unless `quantile` is given). On the LAM 9600 data the
   * share measured on held-out normal wafers is 2–3.2% at this target (experiments weeks apart differ a little more
   * than leave-one-out sees), under the 5% a fab tolerates; a busy tool needs less (train-wafer-files.ts sets it
   * from the wafers per shift).
   */
  waferFalseAlarmRate?: number;
  /** Wafers at the start of each period that set its baseline (default 5). */
  baselineWafers?: number;
  stats?: readonly SensorStat[];
  trainedAt?: Date;
}

export interface TrainedWafer {
  member: SetMember;
  /** Indicators left out because they did not vary. */
  constant: string[];
  /** Leave-one-wafer-out scores over the limit (1 = on it), for the summary. */
  looScores: number[];
  periods: number;
}

function mean(vectors: Float64Array[], width: number): Float64Array {
  const out = new Float64Array(width);
  for (const v of vectors) for (let j = 0; j < width; j++) out[j]! += (v[j] as number) / vectors.length;
  return out;
}

/** Baseline of each period: the mean of its first `count` wafers (all of them when it has fewer). */
export function periodBaselines(steps: { period: string; start: number; vector: Float64Array }[], count: number, width: number): Map<string, { baseline: Float64Array; members: Set<number> }> {
  const byPeriod = new Map<string, number[]>();
  steps.forEach((s, i) => byPeriod.set(s.period, [...(byPeriod.get(s.period) ?? []), i]));
  const out = new Map<string, { baseline: Float64Array; members: Set<number> }>();
  for (const [period, idx] of byPeriod) {
    const first = [...idx].sort((a, b) => (steps[a]?.start as number) - (steps[b]?.start as number)).slice(0, count);
    out.set(period, { baseline: mean(first.map((i) => steps[i]?.vector as Float64Array), width), members: new Set(first) });
  }
  return out;
}

/** Fits one wafer model per (recipe, step) of the given normal wafer steps and exports each as ONNX. Pure: no I/O. */
export function trainWaferModels(steps: WaferStep[], opts: WaferTrainOptions): TrainedWafer[] {
  const baselineWafers = opts.baselineWafers ?? 5;
  const trainedAt = (opts.trainedAt ?? new Date()).toISOString();
  const groups = new Map<string, { context: ModelContext; steps: WaferStep[] }>();
  for (const s of steps) {
    const key = contextKey(s.context);
    const g = groups.get(key) ?? { context: s.context, steps: [] };
    g.steps.push(s);
    groups.set(key, g);
  }
  const stepsPerRecipe = new Map<string, number>();
  for (const g of groups.values()) stepsPerRecipe.set(g.context.recipe ?? '', (stepsPerRecipe.get(g.context.recipe ?? '') ?? 0) + 1);
  const out: TrainedWafer[] = [];
  for (const { context, steps: group } of [...groups.values()].sort((a, b) => contextSlug(a.context).localeCompare(contextSlug(b.context)))) {
    // Sensors every wafer of the step reported; a model over a sensor some wafers lack could not score them.
    const sensors = [...group[0]!.summary.indicators.keys()]
      .filter((k) => k.endsWith('__mean'))
      .map((k) => k.slice(0, -'__mean'.length))
      .filter((sensor) => group.every((s) => s.summary.indicators.has(`${sensor}__mean`)))
      .sort();
    const names = indicatorNames(sensors, opts.stats ?? DEFAULT_MODEL_STATS);
    const vectors = group.map((s) => {
      const v = indicatorVector(s.summary.indicators, names);
      if (!(v instanceof Float64Array)) throw new Error(`wafer ${s.wafer}: indicator ${v.missing} is not finite`);
      return { period: s.period, start: s.order ?? s.summary.start, vector: v };
    });
    const baselines = periodBaselines(vectors, baselineWafers, names.length);
    const rows: WaferRow[] = vectors.map((v, i) => {
      const b = baselines.get(v.period)!;
      return { values: v.vector, baseline: b.baseline, inBaseline: b.members.has(i) };
    });
    // The model is centred on the latest period's baseline: what the tool looks like now.
    const latest = vectors.reduce((a, b) => (b.start > a.start ? b : a)).period;
    const quantile = opts.quantile ?? 1 - (opts.waferFalseAlarmRate ?? DEFAULT_WAFER_FALSE_ALARM_RATE) / (stepsPerRecipe.get(context.recipe ?? '') ?? 1);
    const fit = fitWaferPca(names, rows, baselines.get(latest)!.baseline, { ...opts, quantile });
    const metadata: ModelMetadata = ModelMetadataSchema.parse({
      contract: 'linewatch.model/1',
      family: WAFER_FAMILY,
      version: `${opts.stationType}-wafer@${trainedAt}#${contextLabel(context)}`,
      stationType: opts.stationType,
      context,
      features: fit.model.features,
      mean: fit.model.mean,
      std: fit.model.std,
      threshold: 1,
      t2Limit: fit.model.t2Limit,
      speLimit: fit.model.speLimit,
      components: fit.model.components,
      alpha: fit.model.alpha,
      trainedAt,
      trainingSamples: rows.length,
    } satisfies ModelMetadata);
    const extra = {
      waferPeriods: String(baselines.size),
      baselineWafers: String(baselineWafers),
      excludedIndicators: JSON.stringify(fit.constant),
      explainedVariance: String(fit.model.explainedVariance),
      limits: 'leave-one-wafer-out quantile',
    };
    out.push({
      member: { context, slug: contextSlug(context), rows: rows.length, trained: { model: fit.model, metadata, onnx: exportPcaOnnx(fit.model, metadata, extra) } },
      constant: fit.constant,
      looScores: fit.looScores,
      periods: baselines.size,
    });
  }
  return out;
}
