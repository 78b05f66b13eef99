import type { ProcessContext } from '@linewatch/protocol';
import { readEntries, readHeader } from '@linewatch/recording';
import { writeModelSet, type WrittenSet } from '../model/model-files.js';
import { DEFAULT_VARIANCE_TARGET, MIN_CONTEXT_ROWS, trainContextSet } from '../model/train-set.js';
import { TruthCollector } from './labels.js';

/** Normal rows of one model set (a station, or every station of a type), ready to fit. */
export interface TrainingRows {
  name: string;
  features: string[];
  rows: number[][];
  contexts: (ProcessContext | undefined)[];
  ts: number[];
  /** Rows left out: labelled faulty, inside an injected fault, or missing one of the features. */
  excluded: { faulty: number; incomplete: number };
}

export interface CollectOptions {
  /** One model set per station id (each run its own model) or per station type (the type shares one). */
  by: 'station' | 'type';
  /** Only the first N telemetry rows of each station and file; the rest is left for scoring. */
  firstRows?: number;
}

/**
 * Gathers normal training rows from recordings: rows labelled 1 and rows inside a truth window are left out,
 * and counted. Features are the union of the station's sensors in the headers, in header order.
 */
export async function collectTrainingRows(files: string[], opts: CollectOptions): Promise<TrainingRows[]> {
  const sets = new Map<string, TrainingRows>();
  for (const file of files) {
    const header = await readHeader(file);
    const typeOf = new Map(header.stations.map((s) => [`${s.line}/${s.station}`, s.type ?? s.station]));
    const nameOf = (line: string, station: string): string => (opts.by === 'station' ? station : (typeOf.get(`${line}/${station}`) ?? station));
    for (const s of header.stations) {
      const name = nameOf(s.line, s.station);
      let set = sets.get(name);
      if (!set) sets.set(name, (set = { name, features: [], rows: [], contexts: [], ts: [], excluded: { faulty: 0, incomplete: 0 } }));
      for (const sensor of s.sensors) if (!set.features.includes(sensor)) set.features.push(sensor);
    }
    const truth = new TruthCollector();
    const seen = new Map<string, number>();
    const candidates: { set: TrainingRows; station: string; ts: number; values: Record<string, number>; context: ProcessContext | undefined }[] = [];
    for await (const entry of readEntries(file)) {
      if (entry.kind === 'truth') truth.add(entry.msg);
      if (entry.kind !== 'telemetry') continue;
      const stationKey = `${entry.line}/${entry.station}`;
      const n = (seen.get(stationKey) ?? 0) + 1;
      seen.set(stationKey, n);
      if (opts.firstRows !== undefined && n > opts.firstRows) continue;
      const set = sets.get(nameOf(entry.line, entry.station)) as TrainingRows;
      if (entry.label === 1) {
        set.excluded.faulty++;
        continue;
      }
      candidates.push({ set, station: entry.station, ts: entry.msg.ts, values: entry.msg.values, context: entry.msg.context });
    }
    const faults = truth.all();
    for (const c of candidates) {
      if (faults.some((f) => f.station === c.station && c.ts >= f.start && (f.end === null || c.ts <= f.end))) {
        c.set.excluded.faulty++;
        continue;
      }
      const row = c.set.features.map((f) => c.values[f]);
      if (row.some((v) => v === undefined)) {
        c.set.excluded.incomplete++;
        continue;
      }
      c.set.rows.push(row as number[]);
      c.set.contexts.push(c.context);
      c.set.ts.push(c.ts);
    }
  }
  return [...sets.values()].sort((a, b) => a.name.localeCompare(b.name));
}

export interface FitOptions {
  alpha?: number;
  varianceTarget?: number;
  minContextRows?: number;
}

/** What was fitted for one set; no files when it had too few rows. */
export interface FittedSet {
  set: TrainingRows;
  files: WrittenSet['files'];
}

/** Rows a PCA with calibrated limits needs at the least: more than its features, and 80/20 split to fit and hold out. */
export function minimumRows(features: number): number {
  return Math.max(10, features + 2);
}

/**
 * Fits and writes one model set per entry into `dir`. The training time recorded in each model (and so its
 * version) is the first training row's ts, so the same data gives the same files and the same report.
 */
export async function fitAndWrite(dir: string, sets: TrainingRows[], opts: FitOptions = {}): Promise<FittedSet[]> {
  const out: FittedSet[] = [];
  for (const set of sets) {
    // Too few rows for a PCA with limits: the set gets no model and its snapshots stay UNMODELLED.
    if (set.rows.length < minimumRows(set.features.length)) {
      out.push({ set, files: [] });
      continue;
    }
    const members = trainContextSet(set.features, set.rows, set.contexts, {
      stationType: set.name,
      alpha: opts.alpha ?? 0.999,
      varianceTarget: opts.varianceTarget ?? DEFAULT_VARIANCE_TARGET,
      minContextRows: opts.minContextRows ?? MIN_CONTEXT_ROWS,
      trainedAt: new Date(set.ts[0] as number),
    });
    const { files } = await writeModelSet(dir, set.name, members);
    out.push({ set, files });
  }
  return out;
}
