import { copyFile, mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { listRecordings, readHeader } from '@linewatch/recording';
import type { Logger } from 'pino';
import type { StationModel } from '../model/types.js';
import { evaluate, type Evaluation } from './evaluate.js';
import { runRecording, type DetectorRules } from './offline-run.js';
import type { RunTrace } from './trace.js';
import { collectTrainingRows, fitAndWrite, type FitOptions } from './training.js';

export interface BacktestOptions {
  /** Recording files or folders of them; every recording is one run. */
  inputs: string[];
  /** A models folder (as MODELS_DIR) or one `.onnx` file that then scores every station. Ignored with trainRows. */
  model: string;
  /** Fit each run's own models on the first N rows of each of its stations and score the rest. */
  trainRows?: number | undefined;
  fit?: FitOptions;
  rules: DetectorRules;
  graceMs: number;
  shiftHours: number;
  /** Re-baseline wafer models from the next N wafers after each PM (offline-run.ts). */
  rebaselineAfterPm?: number;
  batchMax?: number;
  logger: Logger;
  loadModel: (path: string) => Promise<StationModel>;
}

export interface RunSummary {
  run: string;
  file: string;
  source: string;
  scenario: string | null;
  labels: string;
  start: number;
  end: number;
  stations: number;
  telemetry: number;
  scored: number;
  unscored: number;
  /** Why snapshots went unscored: no model, a sensor the model needs missing, or a duplicate or late seq. */
  unscoredBy: { UNMODELLED: number; DATA_QUALITY: number; warmingUp: number; duplicateOrLate: number };
  /** Models this run was scored with: the given path, or `trained:{N}` for its own. */
  models: string;
}

/** The JSON report. Everything in it follows from the data and the options, so two runs give the same bytes. */
export interface BacktestReport extends Evaluation {
  format: 'linewatch-backtest';
  version: 1;
  options: { model: string; trainRows: number | null; rules: DetectorRules; graceMs: number; shiftHours: number };
  runs: RunSummary[];
  totals: { runs: number; telemetry: number; scored: number; unscored: number };
}

/**
 * A folder holding one `.onnx` file under every station type name in the recordings, so the registry gives it
 * to every station: how a single bring-your-own model file is backtested.
 */
async function singleModelDir(file: string, files: string[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'linewatch-backtest-model-'));
  const names = new Set<string>();
  for (const f of files) for (const s of (await readHeader(f)).stations) names.add(s.type ?? s.station);
  await Promise.all([...names].map((n) => copyFile(file, join(dir, `${n}.onnx`))));
  return dir;
}

function unscoredBy(trace: RunTrace, unscored: number): RunSummary['unscoredBy'] {
  const count = (health: string) => trace.stations.reduce((n, s) => n + s.overlays.filter((o) => o.health === health).length, 0);
  const UNMODELLED = count('UNMODELLED');
  const DATA_QUALITY = count('DATA_QUALITY');
  return { UNMODELLED, DATA_QUALITY, warmingUp: trace.warmingUp, duplicateOrLate: unscored - UNMODELLED - DATA_QUALITY - trace.warmingUp };
}

async function expand(inputs: string[]): Promise<string[]> {
  const files: string[] = [];
  for (const input of inputs) files.push(...(await listRecordings(input)));
  return files;
}

/** Plays every recording through the detector offline and measures it against its labels. */
export async function backtest(opts: BacktestOptions): Promise<{ report: BacktestReport; traces: RunTrace[] }> {
  const files = await expand(opts.inputs);
  const scratch: string[] = [];
  const traces: RunTrace[] = [];
  const runs: RunSummary[] = [];
  try {
    let sharedDir = opts.model;
    if (opts.trainRows === undefined && !(await stat(opts.model)).isDirectory()) {
      sharedDir = await singleModelDir(opts.model, files);
      scratch.push(sharedDir);
    }
    for (const file of files) {
      let modelsDir = sharedDir;
      if (opts.trainRows !== undefined) {
        modelsDir = await mkdtemp(join(tmpdir(), 'linewatch-backtest-run-'));
        scratch.push(modelsDir);
        await mkdir(modelsDir, { recursive: true });
        const sets = await collectTrainingRows([file], { by: 'station', firstRows: opts.trainRows });
        const fitted = await fitAndWrite(modelsDir, sets, opts.fit);
        opts.logger.debug({ file, fitted }, 'trained run models');
      }
      const trace = await runRecording(file, {
        modelsDir, rules: opts.rules, loadModel: opts.loadModel, logger: opts.logger,
        ...(opts.batchMax !== undefined ? { batchMax: opts.batchMax } : {}),
        ...(opts.trainRows !== undefined ? { trainRows: opts.trainRows } : {}),
        ...(opts.rebaselineAfterPm ? { rebaselineAfterPm: opts.rebaselineAfterPm } : {}),
      });
      traces.push(trace);
      const telemetry = trace.stations.reduce((n, s) => n + s.received, 0);
      const scored = trace.stations.reduce((n, s) => n + s.ts.length, 0);
      runs.push({
        run: trace.run,
        file: basename(file),
        source: `${trace.header.source.kind}: ${trace.header.source.detail}`,
        scenario: trace.header.scenario ?? null,
        labels: trace.header.labels,
        start: trace.header.start,
        end: trace.header.end,
        stations: trace.stations.length,
        telemetry,
        scored,
        unscored: telemetry - scored,
        unscoredBy: unscoredBy(trace, telemetry - scored),
        models: opts.trainRows !== undefined ? `trained:${opts.trainRows}` : opts.model,
      });
    }
  } finally {
    await Promise.all(scratch.map((d) => rm(d, { recursive: true, force: true })));
  }
  const evaluation = evaluate(traces, { graceMs: opts.graceMs, shiftHours: opts.shiftHours });
  const report: BacktestReport = {
    format: 'linewatch-backtest',
    version: 1,
    options: { model: opts.trainRows !== undefined ? `trained:${opts.trainRows}` : opts.model, trainRows: opts.trainRows ?? null, rules: opts.rules, graceMs: opts.graceMs, shiftHours: opts.shiftHours },
    runs,
    totals: {
      runs: runs.length,
      telemetry: runs.reduce((n, r) => n + r.telemetry, 0),
      scored: runs.reduce((n, r) => n + r.scored, 0),
      unscored: runs.reduce((n, r) => n + r.unscored, 0),
    },
    ...evaluation,
  };
  return { report, traces };
}
