import type { ModelMetadata } from '@linewatch/protocol';

/** The detector's view of one loaded model, whatever produced the ONNX file. */
export interface ScoredRow {
  score: number;
  t2: number;
  spe: number;
  /**
   * Per-feature share of the score in `meta.features` order, summing to 1; absent if the model has no `contrib`
   * output. A view into the batch's output, not a copy: most rows are normal and never read it.
   */
  contrib?: ArrayLike<number>;
  /** The model's expected value per feature in raw units; absent if the model has no `expected` output. */
  expected?: ArrayLike<number>;
}

export interface StationModel {
  readonly meta: ModelMetadata;
  /** Scores N rows at once (one onnxruntime run). Each row holds raw values in `meta.features` order. */
  score(rows: Float32Array, n: number): Promise<ScoredRow[]>;
  release(): Promise<void>;
}
