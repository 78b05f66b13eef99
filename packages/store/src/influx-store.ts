import { InfluxDB, type IPoint } from 'influx';
import type { Logger } from 'pino';
import type { Anomaly, WaferVerdict } from '@linewatch/protocol';
import {
  anomaliesQuery,
  continuousQueries,
  countQuery,
  parseInfluxDuration,
  parseRetention,
  planRange,
  readingsQuery,
  scoresQuery,
  stationsQuery,
} from './influx-query.js';
import { RP, anomalyToPoint, readingToPoint, rowToAnomaly, rowToReading, rowToScore, scoreToPoint, type InfluxRow } from './influx-schema.js';
import { alertEventsQuery, alertEventToPoint, rowToAlertEvent } from './influx-alert-events.js';
import { byNewestStep, rowToWaferVerdict, waferVerdictToPoint, waferVerdictsQuery } from './influx-wafer-verdicts.js';
import { EQUIPMENT_STATE_RP, assembleStates, rowToStateRow, stateBeforeQuery, statePointToPoint, statesInRangeQuery } from './influx-equipment-states.js';
import type {
  AlertEventPoint,
  AlertEventQuery,
  AnomalyQuery,
  CountQuery,
  RangeQuery,
  ReadingRow,
  ScoreRow,
  StateRow,
  StationsQuery,
  Store,
  WaferVerdictQuery,
  WriteBatch,
  WriteResult,
} from './types.js';
import { DEFAULT_LIMIT, checkedLimit } from './validate.js';

export interface InfluxStoreConfig {
  /** e.g. http://127.0.0.1:8086 */
  url: string;
  database: string;
  username?: string | undefined;
  password?: string | undefined;
  /** Duration of the default RP holding raw points, as InfluxQL (`30d`, `720h`). Default 30d. */
  rawRetention?: string | undefined;
  /** Duration of the RP holding the 1-minute rollups. Default 400d. */
  rollupRetention?: string | undefined;
}

/**
 * InfluxDB 1.x store. Schema and downsampling rule: docs/storage.md. The client is plain HTTP with no
 * connection to open, so the constructor may build it; `init()` does the I/O.
 */
export class InfluxStore implements Store {
  readonly kind = 'influx' as const;
  private readonly influx: InfluxDB;
  private readonly rawRetention: string;
  private readonly rollupRetention: string;
  private readonly rawRetentionMs: number;
  private readonly rollupRetentionMs: number;
  private readonly log: Logger;

  constructor(
    private readonly config: InfluxStoreConfig,
    logger: Logger,
    /** Injectable clock so tests can exercise the downsampling rule. */
    private readonly now: () => number = Date.now,
  ) {
    this.rawRetention = config.rawRetention ?? '30d';
    this.rollupRetention = config.rollupRetention ?? '400d';
    this.rawRetentionMs = parseRetention(this.rawRetention);
    this.rollupRetentionMs = parseRetention(this.rollupRetention);
    const url = new URL(config.url);
    this.influx = new InfluxDB({
      host: url.hostname,
      port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
      protocol: url.protocol === 'https:' ? 'https' : 'http',
      database: config.database,
      ...(config.username !== undefined ? { username: config.username, password: config.password ?? '' } : {}),
      // The client's default is 30 s, tried 3 times: over a minute before a hung InfluxDB gives an answer. The
      // callers retry on their own terms (the detector's journal, the page's retries).
      pool: { requestTimeout: 10_000, maxRetries: 0 },
    });
    this.log = logger.child({ module: 'influx-store', database: config.database });
  }

  async init(): Promise<void> {
    const db = this.config.database;
    try {
      await this.influx.createDatabase(db);
      await this.ensureRetentionPolicy(RP.raw, this.rawRetention, true);
      await this.ensureRetentionPolicy(RP.rollup, this.rollupRetention, false);
      await this.ensureContinuousQueries();
    } catch (err) {
      throw new Error(`influx init of database ${db} failed`, { cause: err });
    }
    this.log.info({ rawRetention: this.rawRetention, rollupRetention: this.rollupRetention }, 'influx store ready');
  }

  /** CREATE fails when an RP exists with other settings, so compare and ALTER instead. */
  private async ensureRetentionPolicy(name: string, duration: string, isDefault: boolean): Promise<void> {
    const existing = (await this.influx.showRetentionPolicies(this.config.database)).find((rp) => rp.name === name);
    const options = { database: this.config.database, duration, replication: 1, isDefault };
    if (!existing) {
      await this.influx.createRetentionPolicy(name, options);
    } else if (parseInfluxDuration(existing.duration) !== parseRetention(duration) || existing.default !== isDefault) {
      this.log.info({ rp: name, from: existing.duration, to: duration }, 'altering retention policy');
      await this.influx.alterRetentionPolicy(name, options);
    }
  }

  /** CQs cannot be altered; they are versioned by name, so an outdated one is dropped and the new one created. */
  private async ensureContinuousQueries(): Promise<void> {
    const db = this.config.database;
    const present = await this.continuousQueryNames();
    const wanted = continuousQueries(db);
    for (const name of present) {
      if (name.startsWith('lw_') && !wanted.some((cq) => cq.name === name)) await this.influx.dropContinuousQuery(name, db);
    }
    for (const cq of wanted) {
      // RESAMPLE FOR 10m recomputes the last ten minutes on each run, so batches that arrive late are still rolled up.
      if (!present.has(cq.name)) await this.influx.createContinuousQuery(cq.name, cq.query, db, 'RESAMPLE FOR 10m');
    }
  }

  /**
   * SHOW CONTINUOUS QUERIES answers with one series per database. The client's `showContinousQueries` keeps only
   * the first series, whichever database that is, so the series of this database is picked here by name.
   */
  private async continuousQueryNames(): Promise<Set<string>> {
    const raw = (await this.influx.queryRaw('SHOW CONTINUOUS QUERIES', { database: this.config.database })) as {
      results?: { series?: { name: string; values?: unknown[][] }[] }[];
    };
    const series = raw.results?.[0]?.series?.find((s) => s.name === this.config.database);
    return new Set((series?.values ?? []).map((row) => String(row[0])));
  }

  async write(batch: WriteBatch): Promise<WriteResult | void> {
    // InfluxDB rejects the whole request ("points beyond retention policy") when one point is older than the raw
    // RP; a retry cannot fix that, so such points are refused here (and reported, so they are counted as dropped)
    // rather than poisoning the batch forever.
    const now = this.now();
    const horizon = now - this.rawRetentionMs + 60_000;
    const points: IPoint[] = [];
    const rejected = { readings: 0, scores: 0, anomalies: 0, wafers: 0, reason: 'older than the raw retention policy' };
    for (const r of batch.readings) {
      if (r.ts >= horizon) points.push(readingToPoint(r));
      else rejected.readings++;
    }
    for (const s of batch.scores) {
      if (s.ts >= horizon) points.push(scoreToPoint(s));
      else rejected.scores++;
    }
    for (const a of batch.anomalies) {
      if (a.ts >= horizon) points.push(anomalyToPoint(a));
      else rejected.anomalies++;
    }
    // A verdict's point sits at the end of its step.
    for (const v of batch.wafers ?? []) {
      if (v.end >= horizon) points.push(waferVerdictToPoint(v));
      else rejected.wafers++;
    }
    // State changes go to the long policy (see influx-equipment-states.ts), so its horizon applies to them.
    const stateHorizon = now - this.rollupRetentionMs + 60_000;
    const states = (batch.states ?? []).filter((p) => p.ts >= stateHorizon).map(statePointToPoint);
    const refusedStates = (batch.states?.length ?? 0) - states.length;
    const refused = rejected.readings + rejected.scores + rejected.anomalies + rejected.wafers;
    if (refused > 0) this.log.warn({ ...rejected }, 'points older than the raw retention policy refused');
    if (refusedStates > 0) this.log.warn({ states: refusedStates }, 'state changes older than the rollup retention policy refused');
    await this.writePoints(points, RP.raw);
    await this.writePoints(states, EQUIPMENT_STATE_RP);
    if (refused === 0 && refusedStates === 0) return undefined;
    // One reason per batch: the raw policy's when other points were refused too, else the rollup policy's.
    if (refused === 0) rejected.reason = 'older than the rollup retention policy';
    return { rejected: { ...rejected, ...(refusedStates > 0 ? { states: refusedStates } : {}) } };
  }

  /** One request per retention policy; a failure throws so the caller retries the whole batch (rewrites are idempotent). */
  private async writePoints(points: IPoint[], retentionPolicy: string): Promise<void> {
    if (points.length === 0) return;
    try {
      await this.influx.writePoints(points, { precision: 'ms', retentionPolicy });
    } catch (err) {
      throw new Error(`influx write of ${points.length} points failed`, { cause: err });
    }
  }

  async readings(q: RangeQuery): Promise<ReadingRow[]> {
    const plan = planRange(q, this.rawRetentionMs, this.now());
    const rows = await this.rows(readingsQuery(this.config.database, q, plan));
    const prefix = plan.bucketMs === undefined ? '' : plan.rp === RP.rollup ? 'mean_mean_' : 'mean_';
    const seqColumn = plan.bucketMs === undefined ? 'seq' : 'last_seq';
    return rows.map((row) => rowToReading(row, prefix, seqColumn)).reverse();
  }

  async equipmentStates(q: RangeQuery): Promise<StateRow[]> {
    const limit = checkedLimit(q.limit, DEFAULT_LIMIT);
    const [inRange, before] = await Promise.all([
      this.rows(statesInRangeQuery(this.config.database, q)),
      this.rows(stateBeforeQuery(this.config.database, q)),
    ]);
    return assembleStates(inRange.map(rowToStateRow), before[0] ? rowToStateRow(before[0]) : undefined, limit);
  }

  async scores(q: RangeQuery): Promise<ScoreRow[]> {
    const plan = planRange(q, this.rawRetentionMs, this.now());
    const rows = await this.rows(scoresQuery(this.config.database, q, plan));
    if (plan.bucketMs === undefined) return rows.map((row) => rowToScore(row, false)).reverse();
    // One series per model: merge buckets, keeping the worst score when two models share a bucket.
    const byTs = new Map<number, ScoreRow>();
    for (const row of rows) {
      const score = rowToScore(row, true);
      const seen = byTs.get(score.ts);
      if (!seen || score.score > seen.score) byTs.set(score.ts, score);
    }
    const merged = [...byTs.values()].sort((a, b) => a.ts - b.ts);
    return merged.slice(Math.max(0, merged.length - (q.limit ?? DEFAULT_LIMIT)));
  }

  async anomalies(q: AnomalyQuery): Promise<Anomaly[]> {
    const rows = await this.rows(anomaliesQuery(this.config.database, q));
    // The id is the logical key; a redelivered decision with another tag set would be a second point.
    const seen = new Set<string>();
    return rows.map(rowToAnomaly).filter((a) => !seen.has(a.id) && seen.add(a.id));
  }

  async waferVerdicts(q: WaferVerdictQuery): Promise<WaferVerdict[]> {
    const rows = await this.rows(waferVerdictsQuery(this.config.database, q));
    // Same as anomalies: the id is the logical key, whatever series a repeat landed in.
    const seen = new Set<string>();
    return rows.map(rowToWaferVerdict).filter((v) => !seen.has(v.id) && seen.add(v.id)).sort(byNewestStep);
  }

  async countReadings(q: CountQuery): Promise<number> {
    const rows = await this.rows(countQuery(this.config.database, q));
    const n = rows[0]?.n;
    return typeof n === 'number' ? n : 0;
  }

  async stations(q: StationsQuery): Promise<string[]> {
    const rows = await this.rows(stationsQuery(this.config.database, q));
    return [...new Set(rows.map((r) => r.station).filter((s): s is string => typeof s === 'string'))].sort();
  }

  async writeAlertEvents(events: AlertEventPoint[]): Promise<{ refused: number }> {
    const horizon = this.now() - this.rawRetentionMs + 60_000;
    const points = events.filter((e) => e.at >= horizon).map(alertEventToPoint);
    const refused = events.length - points.length;
    if (refused > 0) this.log.warn({ refused }, 'alert events older than the raw retention policy refused');
    if (points.length > 0) {
      try {
        await this.influx.writePoints(points, { precision: 'ms', retentionPolicy: RP.raw });
      } catch (err) {
        throw new Error(`influx write of ${points.length} alert events failed`, { cause: err });
      }
    }
    return { refused };
  }

  async alertEvents(q: AlertEventQuery): Promise<AlertEventPoint[]> {
    return (await this.rows(alertEventsQuery(this.config.database, q))).map(rowToAlertEvent);
  }

  async ping(): Promise<boolean> {
    try {
      const hosts = await this.influx.ping(2_000);
      return hosts.some((h) => h.online);
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    // Plain HTTP with keep-alive handled by Node; nothing to release.
  }

  private async rows(query: string): Promise<InfluxRow[]> {
    this.log.debug({ query }, 'influx query');
    try {
      const result = await this.influx.query<InfluxRow>(query, { database: this.config.database, precision: 'ms' });
      return [...result];
    } catch (err) {
      throw new Error('influx query failed', { cause: err });
    }
  }
}
