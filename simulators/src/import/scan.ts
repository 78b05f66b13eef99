import { basename, extname } from 'node:path';
import { parseNumber } from './cells.js';
import { candidateColumns, planColumns, resolveRoles, SAMPLE_CELLS, type ColumnPlan, type ColumnSample } from './columns.js';
import { isBlank, type CsvRecord, type Delimiter } from './csv-parser.js';
import { CsvSource } from './csv-source.js';
import type { ImportOptions } from './options.js';
import { RowReader, type Reading, type RowError } from './rows.js';

/** A failed file lists this many row errors; the rest are counted. */
export const LISTED_ERRORS = 20;

export interface SensorRange {
  min: number;
  max: number;
}

/** One station within one run: its good rows and the observed range of each sensor, for the meta message. */
export interface StationRun {
  rows: number;
  ranges: Map<string, SensorRange>;
  /** Time of the station's previous row, to count rows that go back in time. */
  lastTime: number;
}

/** One run (one output recording) as the scan saw it. */
export interface RunPlan {
  /** Value of the run column; unset when the file is one run. */
  id?: string;
  /** Output file name: `{csv base}[-{run}].jsonl.gz`. */
  fileName: string;
  firstRow: number;
  /** Good rows. */
  rows: number;
  /** Bad rows of this run (left out with `skipBadRows`). */
  skipped: number;
  /** Stations in first-seen order. */
  stations: Map<string, StationRun>;
  /** Raw times (ms; from time 0 with a time origin) of the first row and the range. */
  firstTime: number;
  minTime: number;
  maxTime: number;
  /** Rows earlier than the station's previous row, kept in file order. */
  outOfOrder: number;
  /** Rows at the same time as the station's previous row: a store keyed by time keeps only one of them. */
  repeatedTimes: number;
  labelled: number;
  faulty: number;
  /** Empty sensor cells left out of snapshots. */
  missing: number;
  /** Added to every raw time when written: 0, or the run's place on the time line. */
  shift: number;
}

/** Everything the write pass needs, from one full read of the file. */
export interface FilePlan {
  path: string;
  /** File name without its extension: the prefix of every output file. */
  base: string;
  delimiter: Delimiter;
  sha256: string;
  columns: ColumnPlan;
  runs: RunPlan[];
  /** Data rows (records after the header that are not blank). */
  rows: number;
  blankLines: number;
  badRows: number;
  /** The first `LISTED_ERRORS` bad rows. */
  errors: RowError[];
  /** Stations in first-seen order over the whole file: their `order` in the meta message. */
  stations: string[];
}

/** Characters a run id may keep in a file name; others become `_`. */
const fileSafe = (run: string): string => run.replace(/[^A-Za-z0-9_.-]/g, '_');

async function readHeader(source: CsvSource): Promise<CsvRecord> {
  for await (const record of source.records()) {
    if (isBlank(record)) continue;
    if (record.problem !== undefined) throw new Error(`row ${record.row}: header: ${record.problem}`);
    return record;
  }
  throw new Error('empty file, no header');
}

/**
 * First read, usually stopped after a row or two: samples the candidate sensor columns until each one shows a
 * number or `SAMPLE_CELLS` cells of text. Only a column that is empty everywhere makes it read the whole file.
 */
async function sampleColumns(source: CsvSource, width: number, columns: number[], decimalComma: boolean): Promise<Map<number, ColumnSample>> {
  const samples = new Map<number, ColumnSample>(columns.map((index) => [index, { cells: 0, numeric: false }]));
  let open = columns.length;
  let header = true;
  for await (const batch of source.batches()) {
    for (const record of batch) {
      if (isBlank(record)) continue;
      if (header) {
        header = false;
        continue;
      }
      if (record.problem !== undefined || record.fields.length !== width) continue;
      for (const [index, sample] of samples) {
        if (sample.numeric || sample.cells >= SAMPLE_CELLS) continue;
        const value = (record.fields[index] as string).trim();
        if (value === '') continue;
        sample.first ??= { row: record.row, value };
        sample.cells++;
        sample.numeric = parseNumber(value, decimalComma) !== undefined;
        if (sample.numeric || sample.cells >= SAMPLE_CELLS) open--;
      }
      // Returning from inside the loop closes the file.
      if (open === 0) return samples;
    }
  }
  return samples;
}

/**
 * Reads a CSV in full without writing anything: finds the columns, checks every row, and collects per run what
 * the meta messages need (stations, sensor ranges). Memory is bounded by runs × stations × sensors, not rows.
 * Throws an Error for a problem of the whole file (no time column, a run that is not contiguous).
 */
export async function scanFile(path: string, options: ImportOptions, onBadRow?: (error: RowError) => void): Promise<FilePlan> {
  const headerRecord = await readHeader(new CsvSource(path, options.delimiter));
  const header = headerRecord.fields.map((h) => h.trim());
  const roles = resolveRoles(header, options);
  const source = new CsvSource(path, options.delimiter);
  const samples = await sampleColumns(source, header.length, candidateColumns(header, roles), options.decimalComma);
  const columns = planColumns(header, roles, samples);
  const reader = new RowReader(columns, options);
  const base = basename(path, extname(path));
  const plan: FilePlan = {
    path, base, delimiter: source.delimiter as Delimiter, sha256: '', columns, runs: [], rows: 0, blankLines: 0, badRows: 0, errors: [], stations: [],
  };
  const runs = new Map<string, RunPlan>();
  const stationOrder = new Set<string>();
  let current: RunPlan | undefined;
  let pendingSkipped = 0;
  const runOf = (id: string | undefined, row: number): RunPlan => {
    if (current && current.id === id) return current;
    const key = id ?? '';
    if (runs.has(key)) {
      throw new Error(`row ${row}: run '${id}' appears again after run '${current?.id}'; the rows of a run must be contiguous (sort the file by the run column)`);
    }
    const run: RunPlan = {
      fileName: `${base}${id === undefined ? '' : `-${fileSafe(id)}`}.jsonl.gz`, firstRow: row, rows: 0, skipped: pendingSkipped,
      stations: new Map(), firstTime: 0, minTime: Infinity, maxTime: -Infinity, outOfOrder: 0, repeatedTimes: 0, labelled: 0, faulty: 0, missing: 0, shift: 0,
    };
    if (id !== undefined) run.id = id;
    pendingSkipped = 0;
    runs.set(key, run);
    plan.runs.push(run);
    current = run;
    return run;
  };

  let seenHeader = false;
  for await (const batch of source.batches()) {
    for (const record of batch) {
      if (isBlank(record)) {
        if (seenHeader) plan.blankLines++;
        continue;
      }
      if (!seenHeader) {
        seenHeader = true;
        continue;
      }
      plan.rows++;
      const outcome = reader.read(record);
      if ('error' in outcome) {
        plan.badRows++;
        if (plan.errors.length < LISTED_ERRORS) plan.errors.push(outcome.error);
        onBadRow?.(outcome.error);
        // A bad row counts toward the run its run cell names, when the cells are where the header says.
        const runCell = roles.run !== undefined && record.problem === undefined && record.fields.length === header.length
          ? (record.fields[roles.run] as string).trim() : '';
        if (runCell !== '') runOf(runCell, record.row).skipped++;
        else if (current) current.skipped++;
        else pendingSkipped++;
        continue;
      }
      const reading = outcome.reading;
      stationOrder.add(reading.station);
      account(runOf(reading.run, record.row), reading);
    }
  }
  plan.sha256 = source.sha256 ?? '';
  plan.stations = [...stationOrder];
  const names = new Map<string, string | undefined>();
  for (const run of plan.runs) {
    const other = names.get(run.fileName);
    if (names.has(run.fileName)) throw new Error(`runs '${other}' and '${run.id}' both write ${run.fileName}`);
    names.set(run.fileName, run.id);
  }
  if (pendingSkipped > 0 && plan.runs.length === 0) plan.runs.push({ ...emptyRun(base), skipped: pendingSkipped });
  return plan;
}

function emptyRun(base: string): RunPlan {
  return {
    fileName: `${base}.jsonl.gz`, firstRow: 2, rows: 0, skipped: 0, stations: new Map(), firstTime: 0, minTime: 0, maxTime: 0,
    outOfOrder: 0, repeatedTimes: 0, labelled: 0, faulty: 0, missing: 0, shift: 0,
  };
}

function account(run: RunPlan, reading: Reading): void {
  if (run.rows === 0) run.firstTime = reading.time;
  run.rows++;
  run.minTime = Math.min(run.minTime, reading.time);
  run.maxTime = Math.max(run.maxTime, reading.time);
  if (reading.label !== undefined) run.labelled++;
  if (reading.label === 1) run.faulty++;
  run.missing += reading.missing;
  let station = run.stations.get(reading.station);
  if (!station) {
    station = { rows: 0, ranges: new Map(), lastTime: reading.time };
    run.stations.set(reading.station, station);
  } else if (reading.time < station.lastTime) {
    run.outOfOrder++;
  } else if (reading.time === station.lastTime) {
    run.repeatedTimes++;
  }
  station.rows++;
  station.lastTime = reading.time;
  for (const name in reading.values) {
    const value = reading.values[name] as number;
    const range = station.ranges.get(name);
    if (!range) station.ranges.set(name, { min: value, max: value });
    else if (value < range.min) range.min = value;
    else if (value > range.max) range.max = value;
  }
}
