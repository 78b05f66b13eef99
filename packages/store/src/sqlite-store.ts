import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from 'pino';
import type { Anomaly, EquipmentState, Health, ProcessContext, WaferVerdict } from '@linewatch/protocol';
import { DEFAULT_ANOMALY_LIMIT, DEFAULT_LIMIT, DEFAULT_WAFER_LIMIT, assertEpochMs, assertId, checkedBucket, checkedLimit } from './validate.js';
import * as sql from './sqlite-sql.js';
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
} from './types.js';

export interface SqliteStoreConfig {
  /** A file path, or ':memory:' for tests. */
  path: string;
  /** Data older than this is deleted at init and then hourly. Default 7 days. */
  retentionMs?: number | undefined;
  /** How often the prune runs. Default 1 hour. */
  pruneEveryMs?: number | undefined;
}

const DAY_MS = 86_400_000;

interface ScoreDbRow {
  ts: number;
  score: number;
  threshold: number;
  t2: number | null;
  spe: number | null;
  anomalous?: number;
  health: string;
  model_version: string;
}

/**
 * The embedded store for a first run: one SQLite file in WAL mode, so the API can read while the detector
 * writes. better-sqlite3 is synchronous; each call is short and bounded by its LIMIT.
 */
export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  private db: Database.Database | undefined;
  private pruneTimer: NodeJS.Timeout | undefined;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly log: Logger;

  constructor(
    private readonly config: SqliteStoreConfig,
    logger: Logger,
  ) {
    this.log = logger.child({ module: 'sqlite-store' });
  }

  async init(): Promise<void> {
    if (!this.db) {
      try {
        // A first run has no data folder yet; making it here serves every caller.
        if (this.config.path !== ':memory:') mkdirSync(path.dirname(path.resolve(this.config.path)), { recursive: true });
        const db = new Database(this.config.path);
        db.pragma('journal_mode = WAL');
        // WAL makes NORMAL durable against application crashes; only an OS crash can lose the last commits.
        db.pragma('synchronous = NORMAL');
        // The detector writes and the API reads the same file; wait for the writer rather than fail.
        db.pragma('busy_timeout = 5000');
        db.exec(sql.SCHEMA);
        const t2 = (db.pragma('table_info(score)') as { name: string; notnull: number }[]).find((c) => c.name === 't2');
        if (t2?.notnull === 1) {
          db.transaction(() => db.exec(sql.MIGRATE_SCORE_NULLABLE_STATS))();
          this.log.info('score table migrated: t2 and spe may now be null');
        }
        this.db = db;
      } catch (err) {
        throw new Error(`cannot open SQLite store at ${this.config.path}`, { cause: err });
      }
    }
    this.prune();
    if (!this.pruneTimer) {
      this.pruneTimer = setInterval(() => this.prune(), this.config.pruneEveryMs ?? 3_600_000);
      this.pruneTimer.unref();
    }
    this.log.info({ path: this.config.path }, 'sqlite store ready');
  }

  /** Deletes everything older than the retention; errors are logged, not thrown, because it runs from a timer. */
  prune(): number {
    const cutoff = Date.now() - (this.config.retentionMs ?? 7 * DAY_MS);
    try {
      const db = this.open();
      const deleted = db.transaction(() => sql.PRUNE.reduce((n, text) => n + this.statement(text).run(cutoff).changes, 0))();
      if (deleted > 0) this.log.info({ deleted, cutoff }, 'pruned old rows');
      return deleted;
    } catch (err) {
      this.log.error({ err }, 'prune failed');
      return 0;
    }
  }

  async write(batch: WriteBatch): Promise<void> {
    const db = this.open();
    const insertReading = this.statement(sql.INSERT_READING);
    const insertScore = this.statement(sql.INSERT_SCORE);
    const insertAnomaly = this.statement(sql.INSERT_ANOMALY);
    const insertWafer = this.statement(sql.INSERT_WAFER_VERDICT);
    const insertState = this.statement(sql.INSERT_EQUIPMENT_STATE);
    try {
      db.transaction(() => {
        for (const r of batch.readings) {
          insertReading.run({
            line: r.line,
            station: r.station,
            ts: r.ts,
            seq: r.seq,
            values: JSON.stringify(r.values),
            context: r.context ? JSON.stringify(r.context) : null,
            replay: r.replay ? 1 : 0,
          });
        }
        for (const s of batch.scores) {
          insertScore.run({
            line: s.line,
            station: s.station,
            ts: s.ts,
            seq: s.seq,
            score: s.score,
            threshold: s.threshold,
            t2: s.t2,
            spe: s.spe,
            anomalous: s.anomalous ? 1 : 0,
            health: s.health,
            modelVersion: s.modelVersion,
            replay: s.replay ? 1 : 0,
          });
        }
        for (const a of batch.anomalies) {
          insertAnomaly.run({ id: a.id, line: a.line, station: a.station, ts: a.ts, body: JSON.stringify(a) });
        }
        for (const v of batch.wafers ?? []) {
          insertWafer.run({ id: v.id, line: v.line, station: v.station, end: v.end, body: JSON.stringify(v) });
        }
        for (const p of batch.states ?? []) {
          insertState.run({ line: p.line, station: p.station, ts: p.ts, state: p.state, reason: p.reason ?? null, replay: p.replay ? 1 : 0 });
        }
      })();
    } catch (err) {
      throw new Error('sqlite write failed', { cause: err });
    }
  }

  async readings(q: RangeQuery): Promise<ReadingRow[]> {
    const params = this.rangeParams(q);
    if (q.bucketMs === undefined) {
      const rows = this.statement(sql.SELECT_READINGS).all(params) as { ts: number; seq: number; sensor_values: string; context: string | null }[];
      return rows.reverse().map((row) => ({
        ts: row.ts,
        seq: row.seq,
        values: JSON.parse(row.sensor_values) as Record<string, number>,
        ...(row.context !== null ? { context: JSON.parse(row.context) as ProcessContext } : {}),
      }));
    }
    const bucket = checkedBucket(q.bucketMs);
    const buckets = this.statement(sql.SELECT_READING_BUCKETS).all({ ...params, bucket }) as { bucket: number; seq: number }[];
    if (buckets.length === 0) return [];
    const oldest = Math.min(...buckets.map((b) => b.bucket));
    const means = this.statement(sql.SELECT_READING_MEANS).all({ ...params, bucket, from: Math.max(params.from, oldest) }) as {
      bucket: number;
      sensor: string;
      mean: number;
    }[];
    const rows = new Map<number, ReadingRow>(buckets.map((b) => [b.bucket, { ts: b.bucket, seq: b.seq, values: {} }]));
    for (const m of means) {
      const row = rows.get(m.bucket);
      if (row) row.values[m.sensor] = m.mean;
    }
    return [...rows.values()].sort((a, b) => a.ts - b.ts);
  }

  async equipmentStates(q: RangeQuery): Promise<StateRow[]> {
    const params = this.rangeParams(q);
    type Row = { ts: number; state: string; reason: string | null };
    // An empty reason reads back as none, as from InfluxDB, which has no null and stores none as ''.
    const toState = (row: Row): StateRow => ({ ts: row.ts, state: row.state as EquipmentState, ...(row.reason ? { reason: row.reason } : {}) });
    const inRange = this.statement(sql.SELECT_EQUIPMENT_STATES).all(params) as Row[];
    // A full page means older changes were cut: the state before `from` would then not precede the first row.
    const before = inRange.length < params.limit ? (this.statement(sql.SELECT_EQUIPMENT_STATE_BEFORE).get(params) as Row | undefined) : undefined;
    return [...(before ? [before] : []), ...inRange.reverse()].map(toState);
  }

  async scores(q: RangeQuery): Promise<ScoreRow[]> {
    const params = this.rangeParams(q);
    const bucketed = q.bucketMs !== undefined;
    const rows = (
      bucketed ? this.statement(sql.SELECT_SCORE_BUCKETS).all({ ...params, bucket: checkedBucket(q.bucketMs) }) : this.statement(sql.SELECT_SCORES).all(params)
    ) as ScoreDbRow[];
    return rows.reverse().map((row) => ({
      ts: row.ts,
      score: row.score,
      threshold: row.threshold,
      t2: row.t2,
      spe: row.spe,
      // Same rule as the Influx store: a bucket is anomalous when its worst score crosses its threshold.
      anomalous: bucketed ? row.score > row.threshold : row.anomalous === 1,
      health: row.health as Health,
      modelVersion: row.model_version,
    }));
  }

  async anomalies(q: AnomalyQuery): Promise<Anomaly[]> {
    if (q.line !== undefined) assertId('line', q.line);
    if (q.station !== undefined) assertId('station', q.station);
    const text = sql.selectAnomalies(q.line !== undefined, q.station !== undefined);
    const rows = this.statement(text).all({
      from: q.from ?? 0,
      to: q.to ?? Number.MAX_SAFE_INTEGER,
      limit: checkedLimit(q.limit, DEFAULT_ANOMALY_LIMIT),
      ...(q.line !== undefined ? { line: q.line } : {}),
      ...(q.station !== undefined ? { station: q.station } : {}),
    }) as { body: string }[];
    return rows.map((row) => JSON.parse(row.body) as Anomaly);
  }

  async waferVerdicts(q: WaferVerdictQuery): Promise<WaferVerdict[]> {
    if (q.line !== undefined) assertId('line', q.line);
    if (q.station !== undefined) assertId('station', q.station);
    // The Influx store puts times into its query text and checks them; the same times are refused here.
    if (q.from !== undefined) assertEpochMs('from', q.from);
    if (q.to !== undefined) assertEpochMs('to', q.to);
    const rows = this.statement(sql.selectWaferVerdicts(q.line !== undefined, q.station !== undefined)).all({
      from: q.from ?? 0,
      to: q.to ?? Number.MAX_SAFE_INTEGER,
      limit: checkedLimit(q.limit, DEFAULT_WAFER_LIMIT),
      ...(q.line !== undefined ? { line: q.line } : {}),
      ...(q.station !== undefined ? { station: q.station } : {}),
    }) as { body: string }[];
    return rows.map((row) => JSON.parse(row.body) as WaferVerdict);
  }

  async countReadings(q: CountQuery): Promise<number> {
    if (q.line !== undefined) assertId('line', q.line);
    if (q.station !== undefined) assertId('station', q.station);
    const text = sql.countReadings(q.line !== undefined, q.station !== undefined);
    const row = this.statement(text).get({
      from: q.from,
      to: q.to,
      ...(q.line !== undefined ? { line: q.line } : {}),
      ...(q.station !== undefined ? { station: q.station } : {}),
    }) as { n: number };
    return row.n;
  }

  async stations(q: StationsQuery): Promise<string[]> {
    assertId('line', q.line);
    const rows = this.statement(sql.STATIONS).all({ line: q.line, from: q.from, to: q.to }) as { station: string }[];
    return rows.map((r) => r.station);
  }

  async writeAlertEvents(events: AlertEventPoint[]): Promise<{ refused: number }> {
    const insert = this.statement(sql.INSERT_ALERT_EVENT);
    this.open().transaction(() => {
      for (const e of events) insert.run({ alertId: e.alertId, at: e.at, to: e.to, line: e.line, station: e.station, body: JSON.stringify(e) });
    })();
    return { refused: 0 };
  }

  async alertEvents(q: AlertEventQuery): Promise<AlertEventPoint[]> {
    if (q.line !== undefined) assertId('line', q.line);
    if (q.station !== undefined) assertId('station', q.station);
    const rows = this.statement(sql.selectAlertEvents(q.line !== undefined, q.station !== undefined)).all({
      from: q.from,
      to: q.to,
      limit: checkedLimit(q.limit, DEFAULT_LIMIT),
      ...(q.line !== undefined ? { line: q.line } : {}),
      ...(q.station !== undefined ? { station: q.station } : {}),
    }) as { body: string }[];
    return rows.map((row) => JSON.parse(row.body) as AlertEventPoint);
  }

  async ping(): Promise<boolean> {
    try {
      return this.open().prepare('SELECT 1 AS ok').get() !== undefined;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    this.pruneTimer = undefined;
    this.statements.clear();
    this.db?.close();
    this.db = undefined;
  }

  private open(): Database.Database {
    if (!this.db) throw new Error('sqlite store is not initialised (call init) or already closed');
    return this.db;
  }

  /** Prepared once per statement text and reused. */
  private statement(text: string): Database.Statement {
    let statement = this.statements.get(text);
    if (!statement) {
      statement = this.open().prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }

  /** Ids are bound as parameters, so validation is not about injection but about one rule for both stores. */
  private rangeParams(q: RangeQuery): { line: string; station: string; from: number; to: number; limit: number } {
    assertId('line', q.line);
    assertId('station', q.station);
    return { line: q.line, station: q.station, from: q.from, to: q.to, limit: checkedLimit(q.limit, DEFAULT_LIMIT) };
  }
}
