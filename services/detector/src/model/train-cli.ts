/**
 * `npm run train -- [--type etch] [--samples 100000] [--runs 20] [--seed 7] [--out models] [--alpha 0.999] [--variance 0.99]`
 * Fits the model set of each station type of the default simulated line on normal data: one PCA per (recipe, step)
 * as `{out}/{type}/{recipe}--{step}.onnx`, the idle baseline `{out}/{type}/_idle.onnx`, and the fallback for
 * contexts training never saw as `{out}/{type}.onnx`. Files of a type that the new set no longer has are deleted.
 *
 * `npm run train -- RECORDING|DIR... --out DIR [--per type|station]` fits the same sets on recorded, replayed or
 * imported data instead: every normal row of the recordings (rows labelled faulty or inside a truth window are
 * left out), one set per station type (or per station).
 */
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_LINE } from '@linewatch/simulators';
import { z } from 'zod';
import { listRecordings } from '@linewatch/recording';
import { collectTrainingRows, fitAndWrite, minimumRows } from '../backtest/training.js';
import { writeModelSet, type WrittenSet } from './model-files.js';
import { summarise } from './train.js';
import { DEFAULT_VARIANCE_TARGET, MIN_CONTEXT_ROWS, trainContextSet } from './train-set.js';
import { sampleTrainingRows } from './training-data.js';

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
  /** Confidence of the control limits. */
  alpha: z.coerce.number().gt(0.5).lt(1).default(0.999),
  /** Share of the variance each PCA keeps in its model space; the rest is the residual (SPE) space. */
  variance: z.coerce.number().gt(0.5).lt(1).default(DEFAULT_VARIANCE_TARGET),
  /** Normal rows a (recipe, step) needs for a model of its own (80% fit, 20% held out). */
  minContextRows: z.coerce.number().int().min(20).default(MIN_CONTEXT_ROWS),
  /** Recordings (files or folders) to train on instead of the simulator. */
  recordings: z.array(z.string().min(1)),
  /** With recordings: one model set per station type (shared by its stations) or per station id. */
  per: z.enum(['type', 'station']).default('type'),
});

type Args = z.infer<typeof ArgsSchema>;

function report(files: WrittenSet['files'], removed: string[], name: string): void {
  for (const { path, member } of files) {
    process.stdout.write(`${summarise(member.trained.metadata, member.trained.model)} | rows=${member.rows} → ${path}\n`);
  }
  for (const file of removed) process.stdout.write(`${name}: removed stale ${file}\n`);
}

async function trainOnRecordings(args: Args, outDir: string): Promise<void> {
  const files = (await Promise.all(args.recordings.map((r) => listRecordings(r)))).flat();
  const sets = await collectTrainingRows(files, { by: args.per });
  const fitted = await fitAndWrite(outDir, sets, { alpha: args.alpha, varianceTarget: args.variance, minContextRows: args.minContextRows });
  for (const { set, files: written } of fitted) {
    const left = `left out ${set.excluded.faulty} faulty and ${set.excluded.incomplete} incomplete rows`;
    if (written.length === 0) process.stdout.write(`${set.name}: only ${set.rows.length} normal rows, needs ${minimumRows(set.features.length)}: no model (${left})\n`);
    else process.stdout.write(`${set.name}: ${set.rows.length} normal rows from ${files.length} recording(s), ${left}\n`);
    report(written, [], set.name);
  }
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
      'min-context-rows': { type: 'string' },
    },
  });
  const parsed = ArgsSchema.safeParse({ ...values, minContextRows: values['min-context-rows'], recordings: positionals });
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
    const { features, rows, contexts } = sampleTrainingRows(type, args.samples, args.runs, args.seed);
    const set = trainContextSet(features, rows, contexts, {
      stationType: type, alpha: args.alpha, varianceTarget: args.variance, minContextRows: args.minContextRows,
    });
    const { files, removed } = await writeModelSet(outDir, type, set);
    report(files, removed, type);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  if (err instanceof Error && err.cause) process.stderr.write(`  cause: ${String(err.cause)}\n`);
  process.exitCode = 1;
});
