import path from 'node:path';
import { DEFAULT_LINE, LineSimulator, recordSimulation } from '@linewatch/simulators';
import { writeModelSet, type WrittenSet } from '../model/model-files.js';
import { MIN_STEP_SAMPLES, type SensorStat } from './indicators.js';
import { readWaferSteps, WaferStepCollector, type RecordedWaferStep } from './wafer-steps.js';
import { DEFAULT_WAFER_FALSE_ALARM_RATE, trainWaferModels, WAFER_MODELS_DIR, type TrainedWafer, type WaferStep } from './wafer-train.js';

/**
 * The false wafer alerts per station per shift the limits aim at: a twentieth of the one an unmanned line can live
 * with. The tail of held-out wafer scores is heavier than the fitted χ² (consecutive wafers resemble each other,
 * so leave-one-out scores them too kindly), and on the simulated line (docs/detection.md) the measured rate came
 * out near 0.4 per station per shift at this target; above it, beyond 1 on some stations.
 */
export const DEFAULT_FALSE_ALERTS_PER_SHIFT = 0.05;

export interface WaferTrainingOptions {
  /** Share of normal wafers a recipe may flag (wafer-train.ts); default: DEFAULT_WAFER_FALSE_ALARM_RATE or less (below). */
  waferFalseAlarmRate?: number;
  /**
   * False wafer alerts per station per shift the limits aim at (default DEFAULT_FALSE_ALERTS_PER_SHIFT). A tool that runs 400 wafers a shift
   * would get 4 false alerts at 1% per wafer, so the rate comes down to this over its wafers per shift.
   */
  falseAlertsPerShift?: number;
  shiftHours?: number;
  baselineWafers?: number;
  stats?: readonly SensorStat[];
  trainedAt?: Date;
  /** Fewest normal wafers a recipe step needs for a model (default 20): fewer give limits nobody should trust. */
  minWafers?: number;
  /** Station type by station id (from the recordings' metas); a station without one trains under its own id. */
  types?: ReadonlyMap<string, string>;
}

export interface WaferTrainingResult {
  /** Per station type: what was written, and per step what training found. */
  sets: { name: string; written: WrittenSet; trained: TrainedWafer[] }[];
  /** Steps left out and why (labelled faulty, too short, too few wafers). */
  skipped: { name: string; step: string; reason: string }[];
}

/**
 * Trains the wafer models of every station type in the recordings from their normal wafers (labelled faulty steps
 * are left out) and writes them under `{dir}/wafer/{type}/`. Stations of one type share a model, as the
 * sample-wise models do; each station's PM periods are its own.
 */
export async function trainWaferFromRecordings(files: readonly string[], dir: string, opts: WaferTrainingOptions = {}): Promise<WaferTrainingResult> {
  return trainWaferSteps(await readWaferSteps(files), dir, opts);
}

/**
 * Normal wafer steps of one station type on the simulated line: `hours` of a one-station line at 1 Hz, as
 * `npm run train` does without recordings (the sample-wise models come from the same simulator).
 */
export async function simulatedWaferSteps(type: string, hours: number, seed: number): Promise<RecordedWaferStep[]> {
  const def = DEFAULT_LINE.stations.find((s) => s.type === type);
  if (!def) throw new Error(`no station of type ${type} on the default line`);
  const simulator = new LineSimulator({ line: { line: DEFAULT_LINE.line, stations: [def] }, scenario: { faults: [] }, seed, rateHz: 1, startTs: Date.UTC(2026, 0, 1) });
  const collector = new WaferStepCollector();
  await recordSimulation({ simulator, durationMs: hours * 3_600_000, sink: { needsDrain: false, write: (e) => collector.add(e), drain: async () => undefined } });
  return collector.finish();
}

/** Trains and writes the wafer models of already summarised steps (trainWaferFromRecordings does the reading). */
export async function trainWaferSteps(steps: readonly RecordedWaferStep[], dir: string, opts: WaferTrainingOptions = {}): Promise<WaferTrainingResult> {
  const minWafers = opts.minWafers ?? 20;
  const byType = new Map<string, RecordedWaferStep[]>();
  const skipped: WaferTrainingResult['skipped'] = [];
  for (const s of steps) {
    if (s.label === 1 || s.summary.samples < MIN_STEP_SAMPLES) continue;
    const name = opts.types?.get(s.station) ?? s.station;
    byType.set(name, [...(byType.get(name) ?? []), s]);
  }
  const sets: WaferTrainingResult['sets'] = [];
  for (const [name, list] of [...byType].sort((a, b) => a[0].localeCompare(b[0]))) {
    const counts = new Map<string, number>();
    for (const s of list) counts.set(s.context.step ?? '', (counts.get(s.context.step ?? '') ?? 0) + 1);
    const usable = list.filter((s) => (counts.get(s.context.step ?? '') ?? 0) >= minWafers);
    for (const [step, n] of counts) if (n < minWafers) skipped.push({ name, step, reason: `${n} normal wafers, fewer than ${minWafers}` });
    if (usable.length === 0) continue;
    const waferSteps: WaferStep[] = usable.map((s) => ({ wafer: s.wafer, context: s.context, period: `${s.station}/${s.period}`, summary: s.summary }));
    const rate = opts.waferFalseAlarmRate ?? Math.min(DEFAULT_WAFER_FALSE_ALARM_RATE, (opts.falseAlertsPerShift ?? DEFAULT_FALSE_ALERTS_PER_SHIFT) / wafersPerShift(usable, opts.shiftHours ?? 8));
    const trained = trainWaferModels(waferSteps, {
      stationType: name,
      waferFalseAlarmRate: rate,
      ...(opts.baselineWafers !== undefined ? { baselineWafers: opts.baselineWafers } : {}),
      ...(opts.stats ? { stats: opts.stats } : {}),
      ...(opts.trainedAt ? { trainedAt: opts.trainedAt } : {}),
    });
    const written = await writeModelSet(path.join(dir, WAFER_MODELS_DIR), name, trained.map((t) => t.member));
    sets.push({ name, written, trained });
  }
  return { sets, skipped };
}

/** Wafers one station of the type runs per shift, from the busiest station's span in the data (0 when unknown). */
function wafersPerShift(steps: readonly RecordedWaferStep[], shiftHours: number): number {
  const byStation = new Map<string, { wafers: Set<string>; from: number; to: number }>();
  for (const s of steps) {
    const b = byStation.get(s.station) ?? { wafers: new Set<string>(), from: s.summary.start, to: s.summary.end };
    b.wafers.add(s.wafer);
    b.from = Math.min(b.from, s.summary.start);
    b.to = Math.max(b.to, s.summary.end);
    byStation.set(s.station, b);
  }
  let most = 0;
  for (const b of byStation.values()) {
    const hours = (b.to - b.from) / 3_600_000;
    // Less than an hour of data says little about throughput (an import of one wafer per run says nothing).
    if (hours >= 1) most = Math.max(most, (b.wafers.size / hours) * shiftHours);
  }
  return most;
}

/** One line per wafer model for the CLI. */
export function waferSummaryLines(result: WaferTrainingResult): string[] {
  const lines: string[] = [];
  for (const set of result.sets) {
    set.trained.forEach((t, i) => {
      const meta = t.member.trained.metadata;
      const over = t.looScores.filter((v) => v > 1).length;
      const file = set.written.files[i]?.path ?? '';
      lines.push(
        `${set.name} wafer [${meta.context?.recipe ?? '-'}/${meta.context?.step ?? '-'}]: ${t.member.rows} normal wafers, ${t.periods} period(s)` +
          ` | ${meta.features.length} indicators (left out ${t.constant.length}) k=${meta.components}` +
          ` | limit at ${((1 - (meta.alpha ?? 0)) * 100).toFixed(3)}% per step, leave-one-out over ${over}/${t.looScores.length} → ${file}`,
      );
    });
  }
  for (const s of result.skipped) lines.push(`${s.name} wafer [${s.step}]: no model (${s.reason})`);
  return lines;
}
