import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Contributor } from '@linewatch/protocol';
import { contextKey } from '../model/context.js';
import { writeModelSet } from '../model/model-files.js';
import { loadOnnxModel } from '../model/onnx-model.js';
import type { StationModel } from '../model/types.js';
import { indicatorVector, MIN_STEP_SAMPLES, type SensorStat } from './indicators.js';
import { scoreStep } from './wafer-score.js';
import type { RecordedWaferStep } from './wafer-steps.js';
import { periodBaselines, trainWaferModels, type WaferStep } from './wafer-train.js';

/** One wafer of a cross-validation: its steps, its maintenance period and its place in the period's run order. */
export interface CvWafer {
  id: string;
  period: string;
  order: number;
  normal: boolean;
  fault?: string;
  steps: RecordedWaferStep[];
}

export interface CvOptions {
  folds: number;
  /** Normal wafers at the start of each period that re-set the baseline (a re-baseline after the PM). */
  baselineWafers: number;
  stationType: string;
  stats?: readonly SensorStat[];
  quantile?: number;
  /** Share of normal wafers a recipe may flag (wafer-train.ts). */
  waferFalseAlarmRate?: number;
  varianceTarget?: number;
}

export interface CvStep {
  step: string;
  score: number;
  modelVersion: string;
  contributors: Contributor[];
}

export interface CvVerdict {
  id: string;
  period: string;
  normal: boolean;
  fault: string | undefined;
  fold: number;
  flagged: boolean;
  /** Highest step score (1 = on the limit). */
  score: number;
  steps: CvStep[];
  /** Steps no model of the fold could judge (an unseen step, a missing sensor). */
  unjudged: string[];
}

export interface CvResult {
  verdicts: CvVerdict[];
  /** The wafers that set each period's baseline: never scored, since they define their own normal. */
  baseline: string[];
  faults: { total: number; detected: number };
  normals: { total: number; flagged: number; rate: number };
}

/**
 * Wafer-level cross-validation on normal and faulty wafers: the scored normal wafers are split into folds; each
 * fold's wafers (and the faulty wafers dealt to it) are judged by models trained on the other folds only, with
 * limits set by leave-one-wafer-out inside that training set. So no wafer trains the model that judges it or sets
 * its limit. Each period is re-baselined from its first `baselineWafers` normal wafers, as an engineer would after
 * the PM that started it.
 */
export async function crossValidate(wafers: CvWafer[], opts: CvOptions): Promise<CvResult> {
  const byPeriod = new Map<string, CvWafer[]>();
  for (const w of wafers) byPeriod.set(w.period, [...(byPeriod.get(w.period) ?? []), w]);
  const baseline = new Set<string>();
  for (const list of byPeriod.values()) {
    for (const w of list.filter((x) => x.normal).sort((a, b) => a.order - b.order).slice(0, opts.baselineWafers)) baseline.add(w.id);
  }
  const ordered = [...wafers].sort((a, b) => a.period.localeCompare(b.period) || a.order - b.order);
  const scoredNormals = ordered.filter((w) => w.normal && !baseline.has(w.id));
  const faulty = ordered.filter((w) => !w.normal);
  const foldOf = new Map<string, number>();
  scoredNormals.forEach((w, i) => foldOf.set(w.id, i % opts.folds));
  faulty.forEach((w, i) => foldOf.set(w.id, i % opts.folds));

  const work = await mkdtemp(path.join(tmpdir(), 'linewatch-wafer-cv-'));
  const verdicts: CvVerdict[] = [];
  try {
    for (let fold = 0; fold < opts.folds; fold++) {
      const training = ordered.filter((w) => w.normal && foldOf.get(w.id) !== fold);
      const steps: WaferStep[] = training.flatMap((w) => w.steps.filter((s) => s.summary.samples >= MIN_STEP_SAMPLES).map((s) => ({ wafer: w.id, context: s.context, period: w.period, order: w.order, summary: s.summary })));
      const trained = trainWaferModels(steps, { stationType: opts.stationType, baselineWafers: opts.baselineWafers, trainedAt: new Date(Date.UTC(2026, 0, 1, 0, fold)), ...pick(opts) });
      const written = await writeModelSet(path.join(work, `fold-${fold}`), opts.stationType, trained.map((t) => t.member));
      const models = new Map<string, StationModel>();
      for (const f of written.files) models.set(contextKey(f.member.context ?? {}), await loadOnnxModel(f.path));
      try {
        // Each period's baseline, from its baseline wafers, in each model's indicator order.
        const baselineOf = (period: string, model: StationModel): Float64Array | undefined => {
          const members = training.filter((w) => w.period === period && baseline.has(w.id));
          const vectors = members.flatMap((w) => w.steps.filter((s) => contextKey(s.context) === contextKey(model.meta.context ?? {})))
            .map((s, i) => ({ period, start: i, vector: indicatorVector(s.summary.indicators, model.meta.features) }))
            .filter((v): v is { period: string; start: number; vector: Float64Array } => v.vector instanceof Float64Array);
          return vectors.length ? periodBaselines(vectors, vectors.length, model.meta.features.length).get(period)?.baseline : undefined;
        };
        for (const w of ordered.filter((x) => foldOf.get(x.id) === fold)) {
          const verdict: CvVerdict = { id: w.id, period: w.period, normal: w.normal, fault: w.fault, fold, flagged: false, score: 0, steps: [], unjudged: [] };
          for (const s of w.steps) {
            const model = models.get(contextKey(s.context));
            const scored = model && s.summary.samples >= MIN_STEP_SAMPLES ? await scoreStep(model, s.summary, baselineOf(w.period, model)) : undefined;
            if (!model || !scored || !('row' in scored)) {
              verdict.unjudged.push(s.context.step ?? '?');
              continue;
            }
            const score = scored.row.score / model.meta.threshold;
            verdict.steps.push({ step: s.context.step ?? '?', score, modelVersion: model.meta.version, contributors: scored.contributors });
            verdict.score = Math.max(verdict.score, score);
            if (score > 1) verdict.flagged = true;
          }
          verdicts.push(verdict);
        }
      } finally {
        await Promise.all([...models.values()].map((m) => m.release()));
      }
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  const faults = verdicts.filter((v) => !v.normal);
  const normals = verdicts.filter((v) => v.normal);
  const flagged = normals.filter((v) => v.flagged).length;
  return {
    verdicts,
    baseline: [...baseline].sort(),
    faults: { total: faults.length, detected: faults.filter((v) => v.flagged).length },
    normals: { total: normals.length, flagged, rate: normals.length ? flagged / normals.length : 0 },
  };
}

function pick(opts: CvOptions): { stats?: readonly SensorStat[]; quantile?: number; varianceTarget?: number; waferFalseAlarmRate?: number } {
  return {
    ...(opts.stats ? { stats: opts.stats } : {}),
    ...(opts.quantile !== undefined ? { quantile: opts.quantile } : {}),
    ...(opts.waferFalseAlarmRate !== undefined ? { waferFalseAlarmRate: opts.waferFalseAlarmRate } : {}),
    ...(opts.varianceTarget !== undefined ? { varianceTarget: opts.varianceTarget } : {}),
  };
}
