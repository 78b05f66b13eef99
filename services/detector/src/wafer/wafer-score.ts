import type { Contributor, ModelMetadata } from '@linewatch/protocol';
import type { ScoredRow, StationModel } from '../model/types.js';
import { indicatorVector, parseIndicator, type StepSummary } from './indicators.js';

/**
 * The model row for a step: its indicators minus the baseline shift. A wafer model is centred on the baseline it
 * was trained with (its `mean`); after a re-baseline the tool's new normal is `baseline`, so every indicator is
 * moved by the difference before the model sees it. Nothing is retrained.
 */
export function shiftedRow(summary: StepSummary, meta: Pick<ModelMetadata, 'features' | 'mean'>, baseline: Float64Array | undefined): Float32Array | { missing: string } {
  const v = indicatorVector(summary.indicators, meta.features);
  if (!(v instanceof Float64Array)) return v;
  const row = new Float32Array(v.length);
  for (let j = 0; j < v.length; j++) row[j] = (v[j] as number) - (baseline ? (baseline[j] as number) - (meta.mean[j] as number) : 0);
  return row;
}

export interface WaferScore {
  row: ScoredRow;
  /** Ranked indicators: the observed value and what the baseline says it should be, in raw units. */
  contributors: Contributor[];
}

/** Scores one step with a wafer model. */
export async function scoreStep(model: StationModel, summary: StepSummary, baseline: Float64Array | undefined, top = 5): Promise<WaferScore | { missing: string }> {
  const row = shiftedRow(summary, model.meta, baseline);
  if (!(row instanceof Float32Array)) return row;
  const [scored] = await model.score(row, 1);
  if (!scored) throw new Error('wafer model returned no row');
  return { row: scored, contributors: rankIndicators(summary, model.meta, baseline, scored, top) };
}

/** Indicators by their share of the score (the model's `contrib`; squared z against the baseline without it). */
export function rankIndicators(summary: StepSummary, meta: Pick<ModelMetadata, 'features' | 'mean' | 'std'>, baseline: Float64Array | undefined, scored: ScoredRow, top: number): Contributor[] {
  const shares = meta.features.map((name, j) => {
    const expected = baseline ? (baseline[j] as number) : (meta.mean[j] as number);
    const value = summary.indicators.get(name) ?? Number.NaN;
    const z = (value - expected) / ((meta.std[j] as number) || 1);
    return { name, value, expected, raw: scored.contrib ? (scored.contrib[j] as number) : z * z };
  });
  const sum = shares.reduce((s, c) => s + (Number.isFinite(c.raw) ? c.raw : 0), 0);
  return shares
    .filter((c) => Number.isFinite(c.raw) && Number.isFinite(c.value))
    .sort((a, b) => b.raw - a.raw || a.name.localeCompare(b.name))
    .slice(0, top)
    .map((c) => {
      const { sensor, stat } = parseIndicator(c.name);
      return { sensor, stat, value: c.value, expected: c.expected, contribution: sum > 0 ? c.raw / sum : 0 };
    });
}
