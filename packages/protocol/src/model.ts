import { z } from 'zod';
import { SensorNameSchema } from './schemas.js';

/**
 * The ONNX model contract, shared by `npm run train`, the detector and bring-your-own models.
 *
 * Input: `x`, float32 [N, F·(L+1)], raw sensor values in `features` order (the graph normalises them): the current
 * snapshot's F values, then the previous snapshot's, …, then the L-th previous, where L is metadata `lags`
 * (absent means 0, i.e. [N, F]: one snapshot per row). A model with `smoothing` w averages the last w snapshots
 * inside the graph, so the caller only ever supplies the raw lagged rows.
 * Outputs: `score` float32 [N] where score > threshold means anomalous; optional `t2` [N], `spe` [N]
 * and `contrib` [N, F] (per-sensor share of the score, rows summing to 1, lags folded onto their sensor) and
 * `expected` [N, F] (the model's reconstruction of the current snapshot in raw units).
 *
 * Metadata (ONNX `metadata_props`, string values): the keys of ModelMetadataSchema, arrays as JSON.
 */
export const MODEL_INPUT = 'x';
export const MODEL_OUTPUTS = { score: 'score', t2: 't2', spe: 'spe', contrib: 'contrib', expected: 'expected' } as const;

/** Parsed `metadata_props` of a linewatch model file. */
export const ModelMetadataSchema = z.object({
  /** Format of this metadata; bumps when keys change meaning. */
  contract: z.literal('linewatch.model/1'),
  family: z.string(),
  /** Unique per trained model, e.g. `etch@2026-11-29T12:00:00Z`. Recorded with every decision. */
  version: z.string(),
  /** Station type (or station id) this model scores. */
  stationType: z.string(),
  /**
   * The process context this model is the baseline for. A snapshot is scored by the model of its station type
   * whose recipe and step match its context; a model without `context` is the station type's fallback.
   * `{}` (both unset) is the baseline for snapshots that carry no recipe/step, i.e. an idle tool.
   */
  context: z.object({ recipe: z.string().optional(), step: z.string().optional() }).optional(),
  features: z.array(SensorNameSchema).min(1),
  mean: z.array(z.number()),
  std: z.array(z.number()),
  threshold: z.number().positive(),
  t2Limit: z.number().optional(),
  speLimit: z.number().optional(),
  components: z.number().int().positive().optional(),
  /** Confidence of the control limits, e.g. 0.999. */
  alpha: z.number().optional(),
  /**
   * Previous snapshots each input row carries besides the current one (dynamic models); absent means 0.
   * @example lags 2 with features [a, b]: x row = [a_t, b_t, a_t−1, b_t−1, a_t−2, b_t−2]
   */
  lags: z.number().int().nonnegative().optional(),
  /**
   * Time between the snapshots a lagged model was trained on (ms): the detector feeds the snapshots nearest to
   * t − k·lagPeriodMs (within half a period), so a model trained at 1 Hz reads the same past on a 10 Hz stream.
   * Absent: the previous `lags` snapshots, whatever their spacing (a bring-your-own model's choice).
   */
  lagPeriodMs: z.number().positive().optional(),
  /** Moving-average window over the last `smoothing` snapshots (≤ lags + 1), applied inside the graph; absent means 1. */
  smoothing: z.number().int().positive().optional(),
  trainedAt: z.string(),
  trainingSamples: z.number().int().nonnegative(),
  /**
   * SPC limits per feature, learned from the normal training rows (centre and sigma of an individuals chart): the
   * Western Electric rules run on them next to the model score. Absent: the rules use `mean` and `std`.
   */
  spcCenter: z.array(z.number()).optional(),
  spcSigma: z.array(z.number()).optional(),
  /**
   * Feature pairs that move together in normal data, `[i, j, r]` by feature index with their correlation, strongest
   * first: the detector names a pair an anomaly breaks. Absent: no broken-correlation explanations.
   */
  pairs: z.array(z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative(), z.number().min(-1).max(1)])).max(50).optional(),
});
export type ModelMetadata = z.infer<typeof ModelMetadataSchema>;
