/**
 * `npm run backtest -- FILE|DIR... [--model models] [--train-rows N] [--out backtest-report] [--grace 10] [--rebaseline-after-pm N]`
 * Plays labelled recordings through the detector offline and writes `report.json` and `report.html`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { z } from 'zod';
import { loadDetectorConfig } from '../config.js';
import { loadOnnxModel } from '../model/onnx-model.js';
import { backtest } from './backtest.js';
import { renderHtml } from './html.js';
import { summaryLines } from './summary.js';

const ArgsSchema = z.object({
  inputs: z.array(z.string().min(1)).min(1, 'give at least one recording file or folder'),
  /** Models folder or one .onnx file; default MODELS_DIR (the detector's). */
  model: z.string().min(1).optional(),
  /** Train each run's own models on the first N rows of each station. */
  trainRows: z.coerce.number().int().min(20).optional(),
  out: z.string().min(1).default('backtest-report'),
  /** Seconds after a fault window ends in which an ALARM still counts as detecting it. */
  grace: z.coerce.number().min(0).max(86_400).default(10),
  shiftHours: z.coerce.number().gt(0).max(24).default(8),
  minContextRows: z.coerce.number().int().min(20).optional(),
  /** Re-baseline wafer models from the next N wafers each time a station leaves SCHEDULED_DOWN (a PM). */
  rebaselineAfterPm: z.coerce.number().int().min(1).max(50).optional(),
});

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      model: { type: 'string' },
      'train-rows': { type: 'string' },
      out: { type: 'string' },
      grace: { type: 'string' },
      'shift-hours': { type: 'string' },
      'min-context-rows': { type: 'string' },
      'rebaseline-after-pm': { type: 'string' },
    },
  });
  const parsed = ArgsSchema.safeParse({
    inputs: positionals, model: values.model, trainRows: values['train-rows'], out: values.out, grace: values.grace,
    shiftHours: values['shift-hours'], minContextRows: values['min-context-rows'], rebaselineAfterPm: values['rebaseline-after-pm'],
  });
  if (!parsed.success) throw new Error(`backtest: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'args'}: ${i.message}`).join('; ')}`);
  const args = parsed.data;
  // The live detector's decision rules and models folder, from the same env keys.
  const config = loadDetectorConfig(process.env);
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'warn' }, pino.destination(2));
  const began = performance.now();
  const { report, traces } = await backtest({
    inputs: args.inputs,
    // Shown in the report as given (relative), so a report does not carry this machine's paths.
    model: args.model ?? (relative(process.cwd(), config.modelsDir) || '.'),
    trainRows: args.trainRows,
    ...(args.minContextRows !== undefined ? { fit: { minContextRows: args.minContextRows } } : {}),
    rules: {
      warnAfter: config.warnAfter, alarmAfter: config.alarmAfter, clearAfter: config.clearAfter, offlineAfterMs: config.offlineAfterMs,
      alarmFactor: config.alarmFactor, spcAlarm: config.spcAlarm, quality: config.quality, warmupMs: config.warmupMs,
    },
    graceMs: args.grace * 1000,
    shiftHours: args.shiftHours,
    ...(args.rebaselineAfterPm !== undefined ? { rebaselineAfterPm: args.rebaselineAfterPm } : {}),
    logger,
    loadModel: loadOnnxModel,
  });
  const seconds = (performance.now() - began) / 1000;
  const outDir = resolve(args.out);
  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(join(outDir, 'report.html'), renderHtml(report, traces));
  for (const line of summaryLines(report)) process.stdout.write(`${line}\n`);
  process.stdout.write(`\n${outDir}/report.json\n${outDir}/report.html\n`);
  process.stderr.write(`${report.totals.telemetry} snapshots in ${seconds.toFixed(1)} s (${Math.round(report.totals.telemetry / seconds)}/s)\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  if (err instanceof Error && err.cause) process.stderr.write(`  cause: ${String(err.cause)}\n`);
  process.exitCode = 1;
});
