import { ID_PATTERN, type ProcessContext } from '@linewatch/protocol';
import { parseLabel, parseNumber, parseTime, type TimeOptions } from './cells.js';
import type { ColumnPlan } from './columns.js';
import type { CsvRecord } from './csv-parser.js';
import type { ImportOptions } from './options.js';

/** One good data row, ready to become a telemetry entry. */
export interface Reading {
  row: number;
  run?: string;
  station: string;
  /** Milliseconds: epoch, or from the run's time 0 when the import has a time origin. */
  time: number;
  values: Record<string, number>;
  context?: ProcessContext;
  label?: 0 | 1;
  fault?: string;
  /** Sensor cells left empty (only with `allowMissing`). */
  missing: number;
}

/** A row that cannot be imported, numbered as in the file (header = row 1). */
export interface RowError {
  row: number;
  /** Physical line the row starts on, when quoted line breaks make it differ from `row`. */
  line: number;
  message: string;
}

export type RowOutcome = { reading: Reading } | { error: RowError };

/** A row's problems are listed up to this many, so one row of 200 bad cells stays one readable line. */
const PROBLEMS_PER_ROW = 3;
const CONTEXT_KEYS = ['recipe', 'step', 'lot', 'wafer'] as const;

function failure(record: CsvRecord, message: string): RowOutcome {
  return { error: { row: record.row, line: record.line, message } };
}

/** A mapped column's cell, trimmed; `undefined` when the column is not mapped. */
function cellAt(fields: string[], index: number | undefined): string | undefined {
  return index === undefined ? undefined : (fields[index] as string).trim();
}

/**
 * Turns records into readings, or into one error per bad row that names every problem of the row (up to three).
 * Pure: the importer's scan and write passes read the same rows the same way.
 */
export class RowReader {
  private readonly time: TimeOptions;
  /** Station ids seen, valid or not: a file repeats a handful of them a million times. */
  private readonly stationIds = new Map<string, boolean>();

  constructor(private readonly plan: ColumnPlan, private readonly options: ImportOptions) {
    this.time = { unit: options.timeUnit, relative: options.timeOrigin !== undefined, decimalComma: options.decimalComma };
  }

  read(record: CsvRecord): RowOutcome {
    if (record.problem !== undefined) return failure(record, record.problem);
    const { fields } = record;
    const { header, roles, sensors } = this.plan;
    if (fields.length !== header.length) {
      return failure(record, `${fields.length} field${fields.length === 1 ? '' : 's'}, the header has ${header.length}`);
    }
    const problems: string[] = [];

    const time = parseTime(fields[roles.time] as string, this.time);
    if ('error' in time) problems.push(time.error);

    let label = this.options.label;
    if (roles.label !== undefined) {
      const parsed = parseLabel(fields[roles.label] as string);
      if ('error' in parsed) problems.push(parsed.error);
      else label = parsed.value;
    }
    const fault = cellAt(fields, roles.fault);
    if (fault !== undefined && fault.length > 200) problems.push('fault name is longer than 200 characters');

    const station = cellAt(fields, roles.station) ?? this.options.station;
    if (!this.validStation(station)) problems.push(`station '${station}' is not an id (1-64 of A-Z a-z 0-9 _ . -, starting alphanumeric)`);

    let context: ProcessContext | undefined;
    for (const key of CONTEXT_KEYS) {
      const value = cellAt(fields, roles[key]) ?? (key === 'recipe' ? this.options.recipe : undefined);
      if (value === undefined || value === '') continue;
      if (value.length > 64) problems.push(`${key} '${value.slice(0, 20)}…' is longer than 64 characters`);
      else (context ??= {})[key] = value;
    }

    const run = cellAt(fields, roles.run);
    if (run === '') problems.push('the run column is empty');
    else if (run !== undefined && run.length > 200) problems.push('run id is longer than 200 characters');

    const values: Record<string, number> = {};
    let missing = 0;
    for (const sensor of sensors) {
      const text = fields[sensor.index] as string;
      const value = parseNumber(text, this.options.decimalComma);
      if (value !== undefined) values[sensor.name] = value;
      else if (text.trim() !== '') problems.push(`sensor '${sensor.column}': '${text}' is not a number`);
      else if (this.options.allowMissing) missing++;
      else problems.push(`sensor '${sensor.column}' is empty`);
    }
    if (missing === sensors.length) problems.push('every sensor cell is empty');

    if (problems.length > 0) {
      const more = problems.length > PROBLEMS_PER_ROW ? `; and ${problems.length - PROBLEMS_PER_ROW} more` : '';
      return failure(record, problems.slice(0, PROBLEMS_PER_ROW).join('; ') + more);
    }
    const reading: Reading = { row: record.row, station, time: (time as { value: number }).value, values, missing };
    if (run !== undefined) reading.run = run;
    if (context) reading.context = context;
    if (label !== undefined) reading.label = label;
    if (fault) reading.fault = fault;
    return { reading };
  }

  private validStation(id: string): boolean {
    let valid = this.stationIds.get(id);
    if (valid === undefined) {
      valid = ID_PATTERN.test(id);
      if (this.stationIds.size < 10_000) this.stationIds.set(id, valid);
    }
    return valid;
  }
}
