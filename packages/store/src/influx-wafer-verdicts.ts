import type { IPoint } from 'influx';
import type { Contributor, WaferVerdict } from '@linewatch/protocol';
import { type InfluxRow, RP, definedTags, tagValue } from './influx-schema.js';
import { MAX_INFLUX_MS, source, whereClause } from './influx-query.js';
import type { WaferVerdictQuery } from './types.js';
import { DEFAULT_WAFER_LIMIT, checkedLimit } from './validate.js';

/**
 * Wafer verdicts in InfluxDB: measurement `wafer_verdict`, one point per verdict at the end of its step (`end`).
 * Tagged by what one filters and groups on, all bounded: line, station, recipe and step (bounded per tool, as on
 * `reading`), the verdict (ok, fault, baselining) and replay. Wafer and lot ids grow without limit, so they are
 * fields, with the id, the step's start, the scores, the model and baseline versions and the contributors (JSON).
 * A station runs one wafer step at a time, so no two verdicts of one series share an `end`; a redelivered
 * verdict lands on itself, and a query keeps one point per id besides.
 */
export const WAFER_VERDICT_MEASUREMENT = 'wafer_verdict';

export function waferVerdictToPoint(v: WaferVerdict): IPoint {
  const fields: Record<string, number | string> = {
    id: v.id,
    wafer: v.wafer,
    start: v.start,
    samples: v.samples,
    score: v.score,
    threshold: v.threshold,
    model_version: v.modelVersion,
    baseline: v.baseline,
    contributors: JSON.stringify(v.contributors),
  };
  // Line protocol has no null: an absent field reads back as null or undefined.
  if (v.lot !== undefined) fields.lot = v.lot;
  if (v.t2 !== null) fields.t2 = v.t2;
  if (v.spe !== null) fields.spe = v.spe;
  return {
    measurement: WAFER_VERDICT_MEASUREMENT,
    tags: definedTags({
      line: v.line,
      station: v.station,
      recipe: tagValue(v.recipe),
      step: tagValue(v.step),
      verdict: v.verdict,
      replay: v.replay ? 'true' : 'false',
    }),
    fields,
    timestamp: v.end,
  };
}

export function rowToWaferVerdict(row: InfluxRow): WaferVerdict {
  const text = (key: string): string | undefined => (typeof row[key] === 'string' ? (row[key] as string) : undefined);
  const num = (key: string): number | null => (typeof row[key] === 'number' ? (row[key] as number) : null);
  const verdict = text('verdict');
  const lot = text('lot');
  const recipe = text('recipe');
  return {
    id: text('id') ?? '',
    line: text('line') ?? '',
    station: text('station') ?? '',
    wafer: text('wafer') ?? '',
    ...(lot !== undefined ? { lot } : {}),
    ...(recipe !== undefined ? { recipe } : {}),
    step: text('step') ?? '',
    start: num('start') ?? 0,
    end: row.time.getTime(),
    samples: num('samples') ?? 0,
    verdict: verdict === 'fault' || verdict === 'baselining' ? verdict : 'ok',
    score: num('score') ?? Number.NaN,
    threshold: num('threshold') ?? Number.NaN,
    t2: num('t2'),
    spe: num('spe'),
    modelVersion: text('model_version') ?? '',
    baseline: text('baseline') ?? '',
    contributors: JSON.parse(text('contributors') ?? '[]') as Contributor[],
    ...(text('replay') === 'true' ? { replay: true } : {}),
  };
}

/** Newest first; the store orders ties and removes repeats of an id (see InfluxStore.waferVerdicts). */
export function waferVerdictsQuery(database: string, q: WaferVerdictQuery): string {
  const limit = checkedLimit(q.limit, DEFAULT_WAFER_LIMIT);
  const where = whereClause({ line: q.line, station: q.station, from: q.from ?? 0, to: q.to ?? MAX_INFLUX_MS });
  return `SELECT * FROM ${source(database, RP.raw, WAFER_VERDICT_MEASUREMENT)} ${where} ORDER BY time DESC LIMIT ${limit}`;
}

/** Newest first by the end of the step, then by id: the order both stores and the API's ring use. */
export function byNewestStep(a: WaferVerdict, b: WaferVerdict): number {
  return b.end - a.end || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
