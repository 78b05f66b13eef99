import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ImportOptionsSchema, type ImportOptions, type ImportOptionsInput } from './options.js';
import type { RowError } from './rows.js';
import { scanFile, type FilePlan } from './scan.js';
import { writeRecordings, type WrittenRecording } from './write.js';

/** Files of a folder that are imported: `.csv`, `.tsv` and `.txt`, in name order. */
const CSV_FILE = /\.(csv|tsv|txt)$/i;

export interface ImportHooks {
  /** Called for every bad row as the scan finds it (a failed file lists only the first 20 in its result). */
  onBadRow?: (path: string, error: RowError) => void;
}

/** What happened to one CSV file. */
export interface FileResult {
  path: string;
  ok: boolean;
  /** Why the file failed, when it did: a problem of the whole file, or its bad rows. */
  problem?: string;
  /** The scan's findings; unset when the file could not be scanned. */
  plan?: FilePlan;
  /** Recordings written, in run order; empty when the file failed. */
  recordings: WrittenRecording[];
}

export interface ImportResult {
  ok: boolean;
  files: FileResult[];
  /** The options as applied, defaults filled in. */
  options: ImportOptions;
}

/** The CSV file, or the CSV files of a folder (not recursive), sorted by name. */
export async function listCsvFiles(input: string): Promise<string[]> {
  const info = await stat(input).catch((err: unknown) => {
    throw new Error(`${input}: no such file or folder`, { cause: err });
  });
  if (!info.isDirectory()) return [input];
  const names = (await readdir(input)).filter((n) => CSV_FILE.test(n)).sort();
  if (names.length === 0) throw new Error(`${input}: no .csv, .tsv or .txt files in this folder`);
  return names.map((n) => join(input, n));
}

/**
 * With a time origin, numeric times count from each run's time 0, and the runs are laid end to end in import
 * order (files by name, runs in file order): run k's time 0 is run k-1's last sample plus the gap. Replayed one
 * after another, or stored side by side, the runs then never overlap, as the wafers did not on the tool. Files that
 * fail still take their place, so fixing one does not move the others. Without an origin, times stay as they are.
 */
export function layOutRuns(plans: FilePlan[], options: ImportOptions): Map<FilePlan, string> {
  const problems = new Map<FilePlan, string>();
  if (options.timeOrigin === undefined) return problems;
  let cursor = options.timeOrigin;
  for (const plan of plans) {
    for (const run of plan.runs) {
      if (run.rows === 0) continue;
      run.shift = cursor;
      if (cursor + run.minTime < 0 && !problems.has(plan)) {
        problems.set(plan, `run ${run.id ?? plan.base} starts ${-run.minTime / 1000} s before its time 0, which falls before 1970`);
      }
      cursor += run.maxTime + Math.round(options.runGapS * 1000);
    }
  }
  return problems;
}

/**
 * Imports a CSV file, or a folder of them, into recordings under `options.out`. Each file is read twice, both
 * times streamed: a scan that checks every row and collects what the meta messages need, then the write. A file
 * with bad rows writes nothing unless `skipBadRows`; one file's failure does not stop the others.
 *
 * @example
 * const result = await importCsv('normal.csv', { runColumn: 'wafer', timeColumn: 'time', timeOrigin: Date.UTC(2026, 0, 5), label: 0 });
 * for (const file of result.files) for (const r of file.recordings) console.log(r.path, r.header.counts.telemetry);
 */
export async function importCsv(input: string, optionsInput: ImportOptionsInput, hooks: ImportHooks = {}): Promise<ImportResult> {
  const parsed = ImportOptionsSchema.safeParse(optionsInput);
  if (!parsed.success) {
    throw new Error(`import: ${parsed.error.issues.map((i) => `${i.path.length > 0 ? `${i.path.join('.')}: ` : ''}${i.message}`).join('; ')}`, { cause: parsed.error });
  }
  const options = parsed.data;
  const paths = await listCsvFiles(input);
  const files: FileResult[] = [];
  for (const path of paths) {
    try {
      const plan = await scanFile(path, options, hooks.onBadRow && ((error) => hooks.onBadRow?.(path, error)));
      files.push({ path, ok: true, plan, recordings: [] });
    } catch (err) {
      files.push({ path, ok: false, problem: (err as Error).message, recordings: [] });
    }
  }
  const fail = (file: FileResult, problem: string) => {
    file.ok = false;
    file.problem ??= problem;
  };
  const plans = files.flatMap((f) => (f.plan ? [f.plan] : []));
  const layoutProblems = layOutRuns(plans, options);
  const outputs = new Map<string, string>();
  for (const file of files) {
    if (!file.plan) continue;
    const problem = layoutProblems.get(file.plan);
    if (problem) fail(file, problem);
    for (const run of file.plan.runs.filter((r) => r.rows > 0)) {
      const other = outputs.get(run.fileName);
      if (other !== undefined && other !== file.path) fail(file, `${run.fileName} would also be written by ${other}`);
      else outputs.set(run.fileName, file.path);
    }
    if (file.plan.badRows > 0 && !options.skipBadRows) {
      fail(file, `${file.plan.badRows} bad row${file.plan.badRows === 1 ? '' : 's'}; nothing written (--skip-bad-rows writes the good ones)`);
    }
    if (file.plan.runs.every((r) => r.rows === 0)) fail(file, 'no good rows; nothing written');
  }
  for (const file of files) {
    if (!file.ok || !file.plan) continue;
    try {
      file.recordings = await writeRecordings(file.plan, options);
    } catch (err) {
      fail(file, (err as Error).message);
    }
  }
  return { ok: files.every((f) => f.ok), files, options };
}
