import { escape } from 'influx';
import { MEASUREMENT, RP } from './influx-schema.js';
import { DEFAULT_ANOMALY_LIMIT, DEFAULT_LIMIT, assertEpochMs, assertId, checkedBucket, checkedLimit } from './validate.js';
import type { AnomalyQuery, CountQuery, RangeQuery, StationsQuery } from './types.js';

/**
 * InfluxQL builders. Every value that reaches a query is either validated (ids against ID_PATTERN, times and
 * limits as safe integers) or escaped with the client's helpers; nothing is concatenated raw.
 */

export const ROLLUP_MS = 60_000;
/** InfluxDB stores int64 nanoseconds, so time ends in 2262; this open upper bound stays below it. */
export const MAX_INFLUX_MS = 9_000_000_000_000;

/** `"db"."rp"."measurement"` with every part escaped. */
export function source(database: string, rp: string, measurement: string): string {
  return `${escape.quoted(database)}.${escape.quoted(rp)}.${escape.quoted(measurement)}`;
}

function tagEquals(tag: string, value: string): string {
  return `${escape.quoted(tag)} = ${escape.stringLit(value)}`;
}

function timeRange(from: number, to: number): string {
  assertEpochMs('from', from);
  assertEpochMs('to', to);
  return `time >= ${from}ms AND time < ${to}ms`;
}

/** WHERE clause for optional line/station and a time range; ids are validated and escaped. */
export function whereClause(q: { line?: string | undefined; station?: string | undefined; from: number; to: number }): string {
  const parts: string[] = [];
  if (q.line !== undefined) {
    assertId('line', q.line);
    parts.push(tagEquals('line', q.line));
  }
  if (q.station !== undefined) {
    assertId('station', q.station);
    parts.push(tagEquals('station', q.station));
  }
  parts.push(timeRange(q.from, q.to));
  return `WHERE ${parts.join(' AND ')}`;
}

/**
 * The downsampling rule: a bucketed query reads the 1-minute rollups only when the bucket is at least a
 * minute and the range starts before the raw retention horizon (so raw points would be missing); otherwise it
 * aggregates raw points, which is exact. Rollup buckets are rounded to whole minutes.
 */
export interface QueryPlan {
  rp: 'raw' | 'rollup';
  bucketMs: number | undefined;
}

export function planRange(q: RangeQuery, rawRetentionMs: number, now: number): QueryPlan {
  if (q.bucketMs === undefined) return { rp: RP.raw, bucketMs: undefined };
  const bucketMs = checkedBucket(q.bucketMs);
  if (bucketMs >= ROLLUP_MS && q.from < now - rawRetentionMs) {
    return { rp: RP.rollup, bucketMs: Math.max(1, Math.round(bucketMs / ROLLUP_MS)) * ROLLUP_MS };
  }
  return { rp: RP.raw, bucketMs };
}

function tail(bucketMs: number | undefined, groupByModel: boolean, limit: number): string {
  const group = bucketMs === undefined ? (groupByModel ? ' GROUP BY "model"' : '') : ` GROUP BY time(${bucketMs}ms)${groupByModel ? ', "model"' : ''} fill(none)`;
  // Newest first so LIMIT keeps the newest; the store reverses to ascending time.
  return `${group} ORDER BY time DESC LIMIT ${limit}`;
}

export function readingsQuery(database: string, q: RangeQuery, plan: QueryPlan): string {
  const limit = checkedLimit(q.limit, DEFAULT_LIMIT);
  const where = whereClause(q);
  if (plan.bucketMs === undefined) return `SELECT * FROM ${source(database, RP.raw, MEASUREMENT.reading)} ${where}${tail(undefined, false, limit)}`;
  if (plan.rp === RP.rollup) {
    return `SELECT mean(/^mean_/), max("last_seq") AS "last_seq" FROM ${source(database, RP.rollup, MEASUREMENT.reading)} ${where}${tail(plan.bucketMs, false, limit)}`;
  }
  return `SELECT mean(*), last("seq") AS "last_seq" FROM ${source(database, RP.raw, MEASUREMENT.reading)} ${where}${tail(plan.bucketMs, false, limit)}`;
}

export function scoresQuery(database: string, q: RangeQuery, plan: QueryPlan): string {
  const limit = checkedLimit(q.limit, DEFAULT_LIMIT);
  const where = whereClause(q);
  if (plan.bucketMs === undefined) {
    return `SELECT "score", "threshold", "t2", "spe", "anomalous", "health", "model" FROM ${source(database, RP.raw, MEASUREMENT.score)} ${where}${tail(undefined, false, limit)}`;
  }
  const scoreColumn = plan.rp === RP.rollup ? 'score_max' : 'score';
  // Grouped by model because the model is a tag; a bucket served by two models yields two rows, merged by the store.
  return (
    `SELECT max("${scoreColumn}") AS "score", mean("threshold") AS "threshold", max("t2") AS "t2", max("spe") AS "spe", ` +
    `last("health") AS "health" FROM ${source(database, plan.rp, MEASUREMENT.score)} ${where}${tail(plan.bucketMs, true, limit)}`
  );
}

export function anomaliesQuery(database: string, q: AnomalyQuery): string {
  const limit = checkedLimit(q.limit, DEFAULT_ANOMALY_LIMIT);
  const where = whereClause({ line: q.line, station: q.station, from: q.from ?? 0, to: q.to ?? MAX_INFLUX_MS });
  return `SELECT * FROM ${source(database, RP.raw, MEASUREMENT.anomaly)} ${where} ORDER BY time DESC LIMIT ${limit}`;
}

export function countQuery(database: string, q: CountQuery): string {
  return `SELECT count("seq") AS "n" FROM ${source(database, RP.raw, MEASUREMENT.reading)} ${whereClause(q)}`;
}

/** One row per station of the line with readings in the range (count of `seq`, grouped by the station tag). */
export function stationsQuery(database: string, q: StationsQuery): string {
  return `SELECT count("seq") AS "n" FROM ${source(database, RP.raw, MEASUREMENT.reading)} ${whereClause(q)} GROUP BY "station"`;
}

/**
 * The continuous queries, named with a version so init can tell "present" from "outdated" by name alone.
 * The name also carries the database: InfluxDB 1.6 tracks a CQ's last run by name only, so same-named CQs in
 * two databases starve each other (observed here: only the first database's CQ ran).
 */
export const CQ_VERSION = 'v1';

export function continuousQueries(database: string): { name: string; query: string }[] {
  const into = (m: string) => source(database, RP.rollup, m);
  const from = (m: string) => source(database, RP.raw, m);
  return [
    {
      name: `lw_reading_1m_${CQ_VERSION}_${database}`,
      query: `SELECT mean(*), last("seq") AS "last_seq" INTO ${into(MEASUREMENT.reading)} FROM ${from(MEASUREMENT.reading)} GROUP BY time(1m), *`,
    },
    {
      name: `lw_score_1m_${CQ_VERSION}_${database}`,
      query:
        `SELECT mean("score") AS "score_mean", max("score") AS "score_max", mean("threshold") AS "threshold", ` +
        `max("t2") AS "t2", max("spe") AS "spe", last("health") AS "health" ` +
        `INTO ${into(MEASUREMENT.score)} FROM ${from(MEASUREMENT.score)} GROUP BY time(1m), *`,
    },
  ];
}

/** Parses an InfluxQL duration literal we accept for retention (`30d`, `720h`, `4w`) into ms. */
export function parseRetention(literal: string): number {
  const match = /^(\d+)(s|m|h|d|w)$/.exec(literal);
  if (!match) throw new Error(`retention must look like 30d, 720h or 4w, got ${JSON.stringify(literal)}`);
  const unitMs = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[match[2] as 's' | 'm' | 'h' | 'd' | 'w'];
  const ms = Number(match[1]) * unitMs;
  if (ms < 3_600_000) throw new Error(`retention must be at least 1h (InfluxDB minimum), got ${literal}`);
  return ms;
}

/** SHOW RETENTION POLICIES prints durations like `720h0m0s`. */
export function parseInfluxDuration(text: string): number {
  let ms = 0;
  for (const [, n, unit] of text.matchAll(/(\d+)(h|m|s)/g)) ms += Number(n) * (unit === 'h' ? 3_600_000 : unit === 'm' ? 60_000 : 1_000);
  return ms;
}
