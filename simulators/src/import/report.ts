import { basename, isAbsolute, relative } from 'node:path';
import type { FileResult } from './import-csv.js';
import type { ImportOptions } from './options.js';
import type { RowError } from './rows.js';
import type { FilePlan } from './scan.js';

const iso = (ms: number): string => new Date(ms).toISOString();
const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
/** A path as short as it is clear: relative below the working directory, absolute elsewhere. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel.startsWith('..') || isAbsolute(rel) ? path : rel;
}
const DELIMITER_NAMES: Record<string, string> = { ',': "','", ';': "';'", '\t': 'tab' };

/** `normal.csv row 12: ...`, with the line when a quoted line break moved it. */
export function formatRowError(path: string, error: RowError): string {
  const where = error.line === error.row ? `row ${error.row}` : `row ${error.row} (line ${error.line})`;
  return `${basename(path)} ${where}: ${error.message}`;
}

function describeColumns(plan: FilePlan, options: ImportOptions): string[] {
  const { header, roles, sensors, textColumns, emptyColumns } = plan.columns;
  const name = (index: number | undefined) => (index === undefined ? undefined : `'${header[index]}'`);
  const time = options.timeOrigin === undefined
    ? `time ${name(roles.time)}`
    : `time ${name(roles.time)} (${options.timeUnit === 'ms' ? 'ms' : 'seconds'} from each run's time 0; runs laid out from ${iso(options.timeOrigin)}, ${options.runGapS} s apart)`;
  const mapped = (['run', 'station', 'recipe', 'step', 'lot', 'wafer', 'label', 'fault'] as const)
    .flatMap((role) => (roles[role] === undefined ? [] : [`${role} ${name(roles[role])}`]));
  const lines = [`  columns: ${[time, ...mapped].join(', ')}${roles.excluded.length > 0 ? `; excluded ${roles.excluded.map(name).join(', ')}` : ''}`];
  lines.push(`  sensors (${sensors.length}): ${sensors.map((s) => s.name).join(', ')}`);
  const renamed = sensors.filter((s) => s.name !== s.column);
  if (renamed.length > 0) lines.push(`  renamed: ${renamed.map((s) => `'${s.column}' → ${s.name}`).join(', ')}`);
  if (textColumns.length > 0) {
    lines.push(`  ignored, not numeric: ${textColumns.map((c) => `'${c.column}' (row ${c.row}: '${c.value.slice(0, 30)}')`).join(', ')}`);
  }
  if (emptyColumns.length > 0) lines.push(`  ignored, empty: ${emptyColumns.map((c) => `'${c}'`).join(', ')}`);
  return lines;
}

/**
 * The summary of one file: its columns, one line per recording (rows, stations, sensors, time range, labels,
 * skipped rows and warnings), a total; or, for a failed file, why, with its first bad rows.
 */
export function formatFileResult(file: FileResult, options: ImportOptions): string[] {
  const name = basename(file.path);
  const plan = file.plan;
  if (!plan) return [`${name}: FAILED: ${file.problem}`];
  const out = [
    `${name}: ${plural(plan.rows, 'row')}, ${plural(plan.badRows, 'bad row')}, ${plural(plan.blankLines, 'blank line')}, ` +
      `delimiter ${DELIMITER_NAMES[plan.delimiter]}, sha256 ${plan.sha256.slice(0, 16)}…`,
    ...describeColumns(plan, options),
  ];
  if (!file.ok) {
    out.push(`  FAILED: ${file.problem}`);
    for (const error of plan.errors) out.push(`    ${formatRowError(file.path, error)}`);
    if (plan.badRows > plan.errors.length) out.push(`    … ${plan.badRows} bad rows in all, the first ${plan.errors.length} listed`);
    return out;
  }
  let rows = 0;
  let skipped = 0;
  let start = Infinity;
  let end = -Infinity;
  for (const { path, run, header } of file.recordings) {
    rows += run.rows;
    skipped += run.skipped;
    start = Math.min(start, header.start);
    end = Math.max(end, header.end);
    const sensors = new Set(header.stations.flatMap((s) => s.sensors)).size;
    const warnings = [
      run.outOfOrder > 0 ? `WARN ${plural(run.outOfOrder, 'row')} back in time` : '',
      run.repeatedTimes > 0 ? `WARN ${plural(run.repeatedTimes, 'row')} at a repeated time` : '',
      run.missing > 0 ? `${plural(run.missing, 'empty sensor cell')}` : '',
    ].filter(Boolean);
    out.push(
      `  ${shown(path)}: ${plural(run.rows, 'row')}, ${plural(header.stations.length, 'station')}, ${plural(sensors, 'sensor')}, ` +
        `${iso(header.start)} … ${iso(header.end)}, labelled ${header.counts.labelled} (faulty ${run.faulty}), skipped ${run.skipped}` +
        (warnings.length > 0 ? `; ${warnings.join('; ')}` : ''),
    );
  }
  for (const run of plan.runs.filter((r) => r.rows === 0)) {
    out.push(`  run ${run.id ?? plan.base}: no good rows (${plural(run.skipped, 'bad row')}), no recording`);
  }
  const outOfOrder = plan.runs.reduce((n, r) => n + r.outOfOrder, 0);
  out.push(
    `  total: ${plural(file.recordings.length, 'recording')}, ${plural(rows, 'row')} written, ${skipped} skipped` +
      (outOfOrder > 0 ? `, ${outOfOrder} back in time (WARN: kept in file order)` : '') +
      (file.recordings.length > 0 ? `, ${iso(start)} … ${iso(end)}` : ''),
  );
  return out;
}
