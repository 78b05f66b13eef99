import type { ImportOptions } from './options.js';
import { nameSensors, type SensorColumn } from './sensor-names.js';

/** Header names taken as the timestamp when `--time-column` is not given, matched ignoring case. */
export const TIME_COLUMN_NAMES = ['ts', 'time', 'timestamp', 'datetime', 'date'] as const;

/** A snapshot holds at most this many sensors (the protocol's limit). */
const MAX_SENSORS = 256;

/** 0-based positions of the columns that carry something other than a sensor. */
export interface ColumnRoles {
  time: number;
  label?: number;
  fault?: number;
  station?: number;
  recipe?: number;
  step?: number;
  lot?: number;
  wafer?: number;
  run?: number;
  excluded: number[];
}

const MAPPED = ['label', 'fault', 'station', 'recipe', 'step', 'lot', 'wafer', 'run'] as const;
type Mapped = (typeof MAPPED)[number];

/**
 * A column looks numeric when any of its first this many non-empty cells is a number: one bad cell at the top
 * of a sensor column must not hide the sensor, and a text column is told after this many cells, not at the
 * end of the file.
 */
export const SAMPLE_CELLS = 100;

/** What the first cells of a candidate column hold. */
export interface ColumnSample {
  /** First non-empty cell, shown when the column is left out as text. */
  first?: { row: number; value: string };
  /** Non-empty cells looked at. */
  cells: number;
  numeric: boolean;
}

/** What every column of a file is for. */
export interface ColumnPlan {
  /** Header names, trimmed. */
  header: string[];
  roles: ColumnRoles;
  /** Numeric columns, in file order. */
  sensors: SensorColumn[];
  /** Left out: their first non-empty cell is not a number (an operator, a comment). */
  textColumns: { column: string; row: number; value: string }[];
  /** Left out: not one cell has a value. */
  emptyColumns: string[];
}

function find(header: string[], name: string, flag: string): number {
  const exact = header.flatMap((h, i) => (h === name ? [i] : []));
  const matches = exact.length > 0 ? exact : header.flatMap((h, i) => (h.toLowerCase() === name.toLowerCase() ? [i] : []));
  if (matches.length === 1) return matches[0] as number;
  if (matches.length > 1) throw new Error(`${flag}: ${matches.length} columns are called '${name}' (columns ${matches.map((i) => i + 1).join(', ')})`);
  throw new Error(`${flag}: no column '${name}'; the header has ${header.map((h) => `'${h}'`).join(', ')}`);
}

/** Finds the columns the options name, and the time column. Throws one Error listing every problem. */
export function resolveRoles(header: string[], options: ImportOptions): ColumnRoles {
  const problems: string[] = [];
  const attempt = <T>(run: () => T): T | undefined => {
    try {
      return run();
    } catch (err) {
      problems.push((err as Error).message);
      return undefined;
    }
  };
  const time = attempt(() => {
    if (options.timeColumn !== undefined) return find(header, options.timeColumn, '--time-column');
    const names: readonly string[] = TIME_COLUMN_NAMES;
    const candidates = header.flatMap((h, i) => (names.includes(h.toLowerCase()) ? [i] : []));
    if (candidates.length === 1) return candidates[0] as number;
    const which = candidates.length === 0 ? `no column is named ${TIME_COLUMN_NAMES.join(', ')}` : `${candidates.map((i) => `'${header[i]}'`).join(' and ')} all qualify`;
    throw new Error(`cannot tell the time column: ${which}; give --time-column`);
  });
  const roles: Partial<Record<Mapped, number>> = {};
  for (const role of MAPPED) {
    const name = options[`${role}Column`];
    if (name === undefined) continue;
    const index = attempt(() => find(header, name, `--${role}-column`));
    if (index !== undefined) roles[role] = index;
  }
  const excluded = options.exclude.flatMap((name) => attempt(() => find(header, name, '--exclude')) ?? []);
  if (problems.length > 0 || time === undefined) throw new Error(problems.join('; '));
  return { time, ...roles, excluded };
}

/** Columns that are neither mapped nor excluded: each is a sensor if its data is numeric. */
export function candidateColumns(header: string[], roles: ColumnRoles): number[] {
  const taken = new Set<number>([roles.time, ...roles.excluded]);
  for (const role of MAPPED) {
    const index = roles[role];
    if (index !== undefined) taken.add(index);
  }
  return header.flatMap((_, i) => (taken.has(i) ? [] : [i]));
}

/**
 * Decides which candidate columns are sensors: those with a number among their first `SAMPLE_CELLS` non-empty
 * cells. Every cell of a sensor column must then be a number, or its row is bad; a column of text is left out
 * and the report shows its first cell. Throws on name collisions and on a file without sensors.
 */
export function planColumns(header: string[], roles: ColumnRoles, samples: ReadonlyMap<number, ColumnSample>): ColumnPlan {
  const numeric: { index: number; column: string }[] = [];
  const textColumns: ColumnPlan['textColumns'] = [];
  const emptyColumns: string[] = [];
  for (const index of candidateColumns(header, roles)) {
    const column = header[index] ?? '';
    const sample = samples.get(index);
    if (sample?.numeric) numeric.push({ index, column });
    else if (sample?.first) textColumns.push({ column, ...sample.first });
    else emptyColumns.push(column || `column ${index + 1}`);
  }
  const sensors = nameSensors(numeric);
  if (sensors.length === 0) throw new Error('no sensor columns: no column other than the mapped ones has numeric data');
  if (sensors.length > MAX_SENSORS) throw new Error(`${sensors.length} sensor columns; a snapshot holds at most ${MAX_SENSORS}: --exclude some`);
  return { header, roles, sensors, textColumns, emptyColumns };
}
