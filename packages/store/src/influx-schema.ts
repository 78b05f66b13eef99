import type { IPoint } from 'influx';
import type { Anomaly, Contributor, Health, ProcessContext } from '@linewatch/protocol';
import type { ReadingPoint, ReadingRow, ScorePoint, ScoreRow } from './types.js';

/**
 * The InfluxDB 1.x schema: how readings, scores and anomalies become points and how rows come back.
 * See docs/storage.md. Tags are what queries filter and group by (bounded sets); everything unbounded is a field.
 */
export const MEASUREMENT = { reading: 'reading', score: 'score', anomaly: 'anomaly' } as const;

/** Retention policy names: raw points (default RP, where writes land) and the 1-minute rollups of the CQs. */
export const RP = { raw: 'raw', rollup: 'rollup' } as const;

/** Tag and field keys the schema itself uses, plus `time`; a sensor with one of these names is stored as `s.<name>`. */
const RESERVED_KEYS = new Set(['time', 'line', 'station', 'recipe', 'step', 'replay', 'model', 'seq', 'lot', 'wafer']);

/** Sensor names cannot contain a dot (SensorNameSchema), so the `s.` prefix keeps the mapping injective. */
const ESCAPED_SENSOR_PREFIX = 's.';

export function sensorField(sensor: string): string {
  return RESERVED_KEYS.has(sensor) ? `${ESCAPED_SENSOR_PREFIX}${sensor}` : sensor;
}

/** The sensor a column holds, after stripping `prefix` (e.g. `mean_`), or null when it is not a sensor column. */
export function sensorFromColumn(column: string, prefix = ''): string | null {
  if (!column.startsWith(prefix)) return null;
  const key = column.slice(prefix.length);
  if (key.startsWith(ESCAPED_SENSOR_PREFIX)) return key.slice(ESCAPED_SENSOR_PREFIX.length);
  if (RESERVED_KEYS.has(key) || key === 'last_seq') return null;
  return key;
}

/** Line protocol cannot carry control characters in a tag, and an empty tag value is invalid: drop both. */
export function tagValue(value: string | undefined): string | undefined {
  // Matching control characters is the point here.
  // eslint-disable-next-line no-control-regex
  const cleaned = value?.replace(/[\u0000-\u001f\u007f]/g, ' ').trim();
  return cleaned ? cleaned : undefined;
}

export function definedTags(tags: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(tags)) if (value !== undefined) out[key] = value;
  return out;
}

/**
 * Tags are a pure function of the reading, so a redelivered reading lands in the same series at the same
 * timestamp and overwrites itself. recipe and step are bounded per tool; lot and wafer are not, so they are fields.
 */
export function readingToPoint(r: ReadingPoint): IPoint {
  const fields: Record<string, number | string> = {};
  for (const [sensor, value] of Object.entries(r.values)) fields[sensorField(sensor)] = value;
  fields.seq = Math.trunc(r.seq);
  if (r.context?.lot) fields.lot = r.context.lot;
  if (r.context?.wafer) fields.wafer = r.context.wafer;
  return {
    measurement: MEASUREMENT.reading,
    tags: definedTags({
      line: r.line,
      station: r.station,
      recipe: tagValue(r.context?.recipe),
      step: tagValue(r.context?.step),
      replay: r.replay ? 'true' : 'false',
    }),
    fields,
    timestamp: r.ts,
  };
}

/** health and anomalous depend on detector state (debounce), not only on the reading, so they are fields. */
export function scoreToPoint(s: ScorePoint): IPoint {
  return {
    measurement: MEASUREMENT.score,
    tags: { line: s.line, station: s.station, model: tagValue(s.modelVersion) ?? 'unknown', replay: s.replay ? 'true' : 'false' },
    fields: {
      score: s.score,
      threshold: s.threshold,
      // A model without T²/SPE outputs leaves them out: line protocol has no null.
      ...(s.t2 !== null ? { t2: s.t2 } : {}),
      ...(s.spe !== null ? { spe: s.spe } : {}),
      anomalous: s.anomalous,
      health: s.health,
      seq: Math.trunc(s.seq),
    },
    timestamp: s.ts,
  };
}

export function anomalyToPoint(a: Anomaly): IPoint {
  const fields: Record<string, number | string> = {
    id: a.id,
    seq: Math.trunc(a.seq),
    score: a.score,
    threshold: a.threshold,
    model_version: a.modelVersion,
    contributors: JSON.stringify(a.contributors),
  };
  if (a.t2 !== null) fields.t2 = a.t2;
  if (a.spe !== null) fields.spe = a.spe;
  if (a.t2Limit !== undefined) fields.t2_limit = a.t2Limit;
  if (a.speLimit !== undefined) fields.spe_limit = a.speLimit;
  if (a.context) fields.context = JSON.stringify(a.context);
  return {
    measurement: MEASUREMENT.anomaly,
    tags: { line: a.line, station: a.station, severity: a.severity, replay: a.replay ? 'true' : 'false' },
    fields,
    timestamp: a.ts,
  };
}

/** A row of the influx client: columns by name, `time` as a Date. */
export type InfluxRow = Record<string, unknown> & { time: Date };

function str(row: InfluxRow, key: string): string | undefined {
  const v = row[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function num(row: InfluxRow, key: string): number {
  const v = row[key];
  return typeof v === 'number' ? v : Number.NaN;
}

function nullableNum(row: InfluxRow, key: string): number | null {
  const v = row[key];
  return typeof v === 'number' ? v : null;
}

export function rowToReading(row: InfluxRow, sensorPrefix = '', seqColumn = 'seq'): ReadingRow {
  const values: Record<string, number> = {};
  for (const [column, value] of Object.entries(row)) {
    if (typeof value !== 'number') continue;
    const sensor = sensorFromColumn(column, sensorPrefix);
    if (sensor !== null) values[sensor] = value;
  }
  const context: ProcessContext = {};
  for (const key of ['recipe', 'step', 'lot', 'wafer'] as const) {
    const v = str(row, key);
    if (v !== undefined) context[key] = v;
  }
  const seq = num(row, seqColumn);
  return {
    ts: row.time.getTime(),
    seq: Number.isFinite(seq) ? Math.round(seq) : 0,
    values,
    ...(Object.keys(context).length > 0 ? { context } : {}),
  };
}

export function rowToScore(row: InfluxRow, bucketed: boolean): ScoreRow {
  const score = num(row, 'score');
  const threshold = num(row, 'threshold');
  return {
    ts: row.time.getTime(),
    score,
    threshold,
    t2: nullableNum(row, 't2'),
    spe: nullableNum(row, 'spe'),
    // A bucket has no single decision; it counts as anomalous when its worst score crosses its threshold.
    anomalous: bucketed ? score > threshold : row.anomalous === true,
    health: (str(row, 'health') ?? 'OK') as Health,
    modelVersion: str(row, 'model') ?? 'unknown',
  };
}

export function rowToAnomaly(row: InfluxRow): Anomaly {
  const t2Limit = row.t2_limit;
  const speLimit = row.spe_limit;
  const context = str(row, 'context');
  return {
    id: str(row, 'id') ?? '',
    line: str(row, 'line') ?? '',
    station: str(row, 'station') ?? '',
    ts: row.time.getTime(),
    seq: num(row, 'seq'),
    score: num(row, 'score'),
    threshold: num(row, 'threshold'),
    t2: nullableNum(row, 't2'),
    ...(typeof t2Limit === 'number' ? { t2Limit } : {}),
    spe: nullableNum(row, 'spe'),
    ...(typeof speLimit === 'number' ? { speLimit } : {}),
    modelVersion: str(row, 'model_version') ?? '',
    severity: str(row, 'severity') === 'critical' ? 'critical' : 'warning',
    contributors: JSON.parse(str(row, 'contributors') ?? '[]') as Contributor[],
    ...(context !== undefined ? { context: JSON.parse(context) as ProcessContext } : {}),
    ...(str(row, 'replay') === 'true' ? { replay: true } : {}),
  };
}
