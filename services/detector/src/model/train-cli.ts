/**
 * `npm run train -- [--type etch] [--samples 100000] [--runs 20] [--seed 7] [--out models] [--alpha 0.999] [--variance 0.99]`
 * Fits the model set of each station type of the default simulated line on normal data: one PCA per (recipe, step)
 * as `{out}/{type}/{recipe}--{step}.onnx`, the idle baseline `{out}/{type}/_idle.onnx`, and the fallback for
 * contexts training never saw as `{out}/{type}.onnx`. Files of a type that the new set no longer has are deleted.
 */
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_LINE } from '@linewatch/simulators';
import { z } from 'zod';
import { writeModelSet } from './model-files.js';
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
  minContextRows: z.coerce.number().int().min(50).default(MIN_CONTEXT_ROWS),
});

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
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
  const parsed = ArgsSchema.safeParse({ ...values, minContextRows: values['min-context-rows'] });
  if (!parsed.success) {
    throw new Error(`train: ${parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const args = parsed.data;
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
    for (const { path, member } of files) {
      process.stdout.write(`${summarise(member.trained.metadata, member.trained.model)} | rows=${member.rows} → ${path}\n`);
    }
    for (const file of removed) process.stdout.write(`${type}: removed stale ${file}\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  if (err instanceof Error && err.cause) process.stderr.write(`  cause: ${String(err.cause)}\n`);
  process.exitCode = 1;
});
