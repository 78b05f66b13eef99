/**
 * `npm run train -- [--type etch] [--samples 100000] [--runs 20] [--seed 7] [--out models] [--alpha 0.999] [--variance 0.99]
 *   [--family auto|pca|dpca] [--smoothing auto|1|2|4]`
 * Fits the model set of each station type of the default simulated line on normal data: one PCA per (recipe, step)
 * as `{out}/{type}/{recipe}--{step}.onnx`, the idle baseline `{out}/{type}/_idle.onnx`, and the fallback for
 * contexts training never saw as `{out}/{type}.onnx`. Files of a type that the new set no longer has are deleted.
 * Each model chooses its sensors, lags and smoothing from the normal data (train.ts) and prints them, with its
 * held-out false-alarm rates, on its summary line.
 *
 * `npm run train -- RECORDING|DIR... --out DIR [--per type|station]` fits the same sets on recorded, replayed or
 * imported data instead: every normal row of the recordings (rows labelled faulty or inside a truth window are
 * left out), one set per station type (or per station).
 *
 * Both also fit the wafer-level models (`{out}/wafer/{type}/{recipe}--{step}.onnx`) from the normal wafers: of the
 * recordings, or of `--wafer-hours` (default 8) of the simulated tool; `--wafer-hours 0` skips them.
 */
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_LINE } from '@linewatch/simulators';
import { z } from 'zod';
import { listRecordings, readHeader } from '@linewatch/recording';
import { collectTrainingRows, minimumRows } from '../backtest/training.js';
import { medianStep, runsFromTimestamps } from './lagged.js';
import { writeModelSet, type WrittenSet } from './model-files.js';
import { summarise } from './train.js';
import { DEFAULT_VARIANCE_TARGET, MIN_CONTEXT_ROWS, trainContextSet, type TrainSetOptions } from './train-set.js';
import { sampleTrainingRows } from './training-data.js';
import { simulatedWaferSteps, trainWaferFromRecordings, trainWaferSteps, waferSummaryLines } from '../wafer/train-wafer-files.js';

const ArgsSchema = z.object({
  /** Train only this station type; default: every type on the default line. */
  type: z.string().min(1).optional(),
  /** Normal snapshots to simulate per type (80% fit, 20% held out to calibrate the limits). */
  samples: z.coerce.number().int().min(100).max(2_000_000).default(100_000),
  /**
   * Independent simulator runs the samples are split over: enough runs to see start-up transients (litho's lens
   * warm-up), each long enough (5000 s by default) to cover every recipe of the wafer cycle.
   */
  runs: z.coerce.number().int().min(1).max(1000).default(20),
  /** Simulator seed, so a retrain on the same code gives the same model. */
  seed: z.coerce.number().int().default(7),
  /** Output folder, relative to the working directory. */
  out: z.string().min(1).default('models'),
  /** Confidence of the control limits: the target per-sample false-alarm rate is 1 − alpha. */
  alpha: z.coerce.number().gt(0.5).lt(1).default(0.999),
  /**
   * pca: one (smoothed) snapshot; dpca: also the 1–2 before; auto: per model, whichever detects a small 3σ step
   * best at the target false-alarm rate. pca is the default, chosen by the detection benchmark
   * (`npm run eval:detection`, docs/detection.md): with the wafer models beside it, every one of 96 faults was
   * detected at 0.54 false alerts per station per shift (worst station 1). dpca alone scored better at 1 Hz
   * (F1 0.76 against 0.68) but its lags are a rate: on a 10 Hz stream it flagged 4.2% of normal snapshots against
   * under 0.5% for pca, and a line's rate is the operator's choice.
   */
  family: z.enum(['auto', 'pca', 'dpca']).default('pca'),
  /** Snapshots averaged before the PCA, or auto to choose among 1, 2, 4 per model (default 1: no smoothing, see family). */
  smoothing: z.union([z.literal('auto'), z.coerce.number().int().min(1).max(16)]).default(1),
  /** Share of the variance each PCA keeps in its model space; the rest is the residual (SPE) space. */
  variance: z.coerce.number().gt(0.5).lt(1).default(DEFAULT_VARIANCE_TARGET),
  /** Normal rows a (recipe, step) needs for a model of its own (80% fit, 20% held out). */
  minContextRows: z.coerce.number().int().min(20).default(MIN_CONTEXT_ROWS),
  /** Recordings (files or folders) to train on instead of the simulator. */
  recordings: z.array(z.string().min(1)),
  /** With recordings: one model set per station type (shared by its stations) or per station id. */
  per: z.enum(['type', 'station']).default('type'),
  /** Simulated hours of normal wafers per station type for the wafer-level models; 0: no wafer models. */
  waferHours: z.coerce.number().min(0).max(200).default(8),
});

type Args = z.infer<typeof ArgsSchema>;

function report(files: WrittenSet['files'], removed: string[], name: string): void {
  for (const { path, member } of files) {
    const { metadata, model, selection } = member.trained;
    process.stdout.write(`${summarise(metadata, model, selection)} | rows=${member.rows} → ${path}\n`);
  }
  for (const file of removed) process.stdout.write(`${name}: removed stale ${file}\n`);
}

/**
 * Like backtest/training.ts `fitAndWrite`, which the backtest keeps static until the detector stacks lagged rows,
 * plus the family and smoothing options, and runs cut where the recorded time jumps.
 */
async function trainOnRecordings(args: Args, outDir: string): Promise<void> {
  const files = (await Promise.all(args.recordings.map((r) => listRecordings(r)))).flat();
  const sets = await collectTrainingRows(files, { by: args.per });
  for (const set of sets) {
    const left = `left out ${set.excluded.faulty} faulty and ${set.excluded.incomplete} incomplete rows`;
    if (set.rows.length < minimumRows(set.features.length)) {
      process.stdout.write(`${set.name}: only ${set.rows.length} normal rows, needs ${minimumRows(set.features.length)}: no model (${left})\n`);
      continue;
    }
    const members = trainContextSet(set.features, set.rows, set.contexts, {
      ...trainSettings(args), stationType: set.name, runs: runsFromTimestamps(set.ts), trainedAt: new Date(set.ts[0] as number),
      samplePeriodMs: medianStep(set.ts),
    });
    const { files: written, removed } = await writeModelSet(outDir, set.name, members);
    process.stdout.write(`${set.name}: ${set.rows.length} normal rows from ${files.length} recording(s), ${left}\n`);
    report(written, removed, set.name);
  }
  if (args.waferHours === 0) return;
  // Wafer models, by station type (or station) as the sample-wise sets: the recordings' metas name the types.
  const types = new Map<string, string>();
  if (args.per === 'type') for (const f of files) for (const s of (await readHeader(f)).stations) if (s.type) types.set(s.station, s.type);
  for (const line of waferSummaryLines(await trainWaferFromRecordings(files, outDir, { types }))) process.stdout.write(`${line}\n`);
}

function trainSettings(args: Args): Pick<TrainSetOptions, 'alpha' | 'varianceTarget' | 'minContextRows' | 'family' | 'smoothing'> {
  return { alpha: args.alpha, varianceTarget: args.variance, minContextRows: args.minContextRows, family: args.family, smoothing: args.smoothing };
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      per: { type: 'string' },
      type: { type: 'string' },
      samples: { type: 'string' },
      runs: { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
      alpha: { type: 'string' },
      variance: { type: 'string' },
      family: { type: 'string' },
      smoothing: { type: 'string' },
      'min-context-rows': { type: 'string' },
      'wafer-hours': { type: 'string' },
    },
  });
  const parsed = ArgsSchema.safeParse({ ...values, minContextRows: values['min-context-rows'], waferHours: values['wafer-hours'], recordings: positionals });
  if (!parsed.success) {
    throw new Error(`train: ${parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const args = parsed.data;
  if (args.recordings.length > 0) {
    const outDir = resolve(args.out);
    await mkdir(outDir, { recursive: true });
    await trainOnRecordings(args, outDir);
    return;
  }
  const lineTypes = [...new Set(DEFAULT_LINE.stations.map((s) => s.type))];
  if (args.type && !lineTypes.includes(args.type)) {
    throw new Error(`train: unknown station type '${args.type}'; the default line has ${lineTypes.join(', ')}`);
  }
  const types = args.type ? [args.type] : lineTypes;
  const outDir = resolve(args.out);
  await mkdir(outDir, { recursive: true });
  for (const type of types) {
    const { features, rows, contexts, runs } = sampleTrainingRows(type, args.samples, args.runs, args.seed);
    // sampleNormal reads the simulated tool at 1 Hz.
    const set = trainContextSet(features, rows, contexts, { ...trainSettings(args), stationType: type, runs, samplePeriodMs: 1000 });
    const { files, removed } = await writeModelSet(outDir, type, set);
    report(files, removed, type);
    if (args.waferHours > 0) {
      const steps = await simulatedWaferSteps(type, args.waferHours, args.seed);
      const station = DEFAULT_LINE.stations.find((s) => s.type === type)?.id ?? type;
      const result = await trainWaferSteps(steps, outDir, { types: new Map([[station, type]]) });
      for (const line of waferSummaryLines(result)) process.stdout.write(`${line}\n`);
    }
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  if (err instanceof Error && err.cause) process.stderr.write(`  cause: ${String(err.cause)}\n`);
  process.exitCode = 1;
});
