import type { ProcessContext } from '@linewatch/protocol';
import { contextKey, contextSlug, trainingContext, type ModelContext } from './context.js';
import { segmentIds } from './lagged.js';
import { trainPca, type TrainedPca, type TrainOptions } from './train.js';

/**
 * Rows a (recipe, step) needs before it gets its own model: 80% fit (400 rows, well above 20 sensors) and 20%
 * held out to calibrate its limits. A rarer context is scored by the fallback.
 */
export const MIN_CONTEXT_ROWS = 500;

/**
 * Share of the variance each PCA keeps. Within one step the normal variation is small and mostly noise, so
 * keeping nearly all of it leaves a residual space in which a one-sensor fault stands out. On fresh simulated
 * runs 0.99, 0.995 and 0.999 all keep false alarms near 0.2% per sample; 0.995 caught the most 10σ steps.
 */
export const DEFAULT_VARIANCE_TARGET = 0.995;

export interface TrainSetOptions extends Omit<TrainOptions, 'context' | 'segments'> {
  /** Contexts with fewer normal rows get no model of their own; default MIN_CONTEXT_ROWS. */
  minContextRows?: number;
  /**
   * Run id per row (e.g. `runsFromTimestamps`): rows of different runs are never consecutive, so no lag window
   * spans two. Default: all rows are one run.
   */
  runs?: readonly number[];
}

/** One model of a station type's set. */
export interface SetMember {
  /** Absent for the fallback, which is trained on every row. */
  context: ModelContext | undefined;
  /** File stem under `{type}/`; absent for the fallback (`{type}.onnx`). */
  slug: string | undefined;
  rows: number;
  trained: TrainedPca;
}

/**
 * Fits the model set of one station type: one PCA per (recipe, step) with at least `minContextRows` rows, the
 * idle baseline `{}`, and a fallback over all rows for a context training never saw. Rows keep their order
 * within a context, so each model's held-out tail is the latest runs. Each model chooses its own settings
 * (`trainPca`), so one set can mix families. Pure: no I/O.
 */
export function trainContextSet(
  features: string[],
  rows: number[][],
  contexts: readonly (ProcessContext | undefined)[],
  opts: TrainSetOptions,
): SetMember[] {
  if (contexts.length !== rows.length) throw new Error(`got ${contexts.length} contexts for ${rows.length} rows`);
  const { minContextRows = MIN_CONTEXT_ROWS, runs, ...rest } = opts;
  const pca: TrainOptions = { varianceTarget: DEFAULT_VARIANCE_TARGET, ...rest, trainedAt: opts.trainedAt ?? new Date() };
  // A lag window holds consecutive snapshots of one run; a context model's also of one stretch of its context,
  // as the detector restarts a station's window when its model changes (lag-buffer.ts).
  const keys = contexts.map((c) => contextKey(trainingContext(c)));
  const segments = segmentIds(keys, runs, rows.length);
  const groups = new Map<string, { context: ModelContext; rows: number[][]; segments: number[] }>();
  rows.forEach((row, i) => {
    const context = trainingContext(contexts[i]);
    const key = keys[i] as string;
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { context, rows: [], segments: [] }));
    group.rows.push(row);
    group.segments.push(segments[i] as number);
  });
  // The fallback scores whatever context has no model of its own, often several in a row: its windows span
  // context changes and break only between runs.
  const fallback = trainPca(features, rows, { ...pca, segments: segmentIds(undefined, runs, rows.length) });
  const members: SetMember[] = [{ context: undefined, slug: undefined, rows: rows.length, trained: fallback }];
  const slugs = new Map<string, ModelContext>();
  const eligible = [...groups.values()].filter((g) => g.rows.length >= minContextRows);
  for (const group of eligible.sort((a, b) => contextSlug(a.context).localeCompare(contextSlug(b.context)))) {
    const slug = contextSlug(group.context);
    const clash = slugs.get(slug);
    if (clash) throw new Error(`contexts ${JSON.stringify(clash)} and ${JSON.stringify(group.context)} share the file name ${slug}.onnx`);
    slugs.set(slug, group.context);
    const trained = trainPca(features, group.rows, { ...pca, context: group.context, segments: group.segments });
    members.push({ context: group.context, slug, rows: group.rows.length, trained });
  }
  return members;
}
