import { ModelMetadataSchema, type ModelMetadata } from '@linewatch/protocol';
import { contextLabel, type ModelContext } from './context.js';
import { exportPcaOnnx } from './onnx-export.js';
import { fitPca, type PcaModel, type PcaOptions } from './pca.js';

export { scoreRowsTs } from './pca.js';

export interface TrainOptions extends PcaOptions {
  /** Station type (or station id) the model scores; recorded as `stationType`. */
  stationType: string;
  /** The (recipe, step) this model is the baseline for; `{}` for idle; absent for the station type's fallback. */
  context?: ModelContext;
  /** Fixed for reproducible files in tests; defaults to now. */
  trainedAt?: Date;
}

export interface TrainedPca {
  model: PcaModel;
  metadata: ModelMetadata;
  onnx: Uint8Array;
}

/** The score is a ratio to the control limits, so the decision threshold is always 1. */
export const PCA_THRESHOLD = 1;

/** Fits a PCA monitor on normal rows (raw values, `features` order) and exports it as ONNX. Pure: no I/O. */
export function trainPca(features: string[], rows: number[][], opts: TrainOptions): TrainedPca {
  const model = fitPca(features, rows, opts);
  const trainedAt = (opts.trainedAt ?? new Date()).toISOString();
  const metadata = ModelMetadataSchema.parse({
    contract: 'linewatch.model/1',
    family: 'pca',
    // Unique per context, so every decision names the baseline it was judged against.
    version: `${opts.stationType}-pca@${trainedAt}${opts.context ? `#${contextLabel(opts.context)}` : ''}`,
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
    trainedAt,
    trainingSamples: model.trainingSamples,
  } satisfies ModelMetadata);
  // Extra keys outside the contract: how the limits were reached, for whoever audits a model file.
  const extra: Record<string, string> = {
    explainedVariance: String(model.explainedVariance),
    eigenvalues: JSON.stringify(model.eigenvalues),
    t2LimitTheoretical: String(model.t2LimitTheoretical),
    speLimitTheoretical: String(model.speLimitTheoretical),
    holdoutSamples: String(model.holdoutSamples),
    holdoutExceedance: JSON.stringify(model.holdout),
  };
  return { model, metadata, onnx: exportPcaOnnx(model, metadata, extra) };
}

/** One line per model for the CLI and logs. */
export function summarise(metadata: ModelMetadata, model: PcaModel): string {
  const pct = (v: number): string => `${(v * 100).toFixed(3)}%`;
  const h = model.holdout;
  return [
    `${metadata.stationType}${metadata.context ? ` [${contextLabel(metadata.context)}]` : ' [fallback]'}: k=${model.components}/${model.features.length}`,
    `explained=${pct(model.explainedVariance)}`,
    `T2lim=${model.t2Limit.toPrecision(5)} (theory ${model.t2LimitTheoretical.toPrecision(5)})`,
    `SPElim=${model.speLimit.toPrecision(5)} (theory ${model.speLimitTheoretical.toPrecision(5)})`,
    `held-out n=${model.holdoutSamples} exceed T2 ${pct(h.t2Theoretical)}→${pct(h.t2)}, SPE ${pct(h.speTheoretical)}→${pct(h.spe)}, score ${pct(h.score)}`,
    `train n=${model.trainingSamples}`,
  ].join(' | ');
}
