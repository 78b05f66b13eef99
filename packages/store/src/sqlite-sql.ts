/**
 * SQL of the embedded store. Readings and scores are keyed (line, station, ts) so INSERT OR REPLACE makes a
 * redelivery overwrite itself; anomalies and wafer verdicts are keyed by their deterministic id. WITHOUT ROWID tables store rows
 * in primary-key order, which is exactly the order of the per-station range queries.
 */
export const SCHEMA = `
CREATE TABLE IF NOT EXISTS reading (
  line TEXT NOT NULL,
  station TEXT NOT NULL,
  ts INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  sensor_values TEXT NOT NULL,
  context TEXT,
  replay INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (line, station, ts)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS reading_ts ON reading (ts);

${scoreTable('score')}
CREATE INDEX IF NOT EXISTS score_ts ON score (ts);

CREATE TABLE IF NOT EXISTS anomaly (
  id TEXT PRIMARY KEY,
  line TEXT NOT NULL,
  station TEXT NOT NULL,
  ts INTEGER NOT NULL,
  body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS anomaly_station_ts ON anomaly (line, station, ts);
CREATE INDEX IF NOT EXISTS anomaly_ts ON anomaly (ts);

CREATE TABLE IF NOT EXISTS alert_event (
  alert_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  to_state TEXT NOT NULL,
  line TEXT NOT NULL,
  station TEXT NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (alert_id, at, to_state)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS alert_event_at ON alert_event (at);

CREATE TABLE IF NOT EXISTS wafer_verdict (
  id TEXT PRIMARY KEY,
  line TEXT NOT NULL,
  station TEXT NOT NULL,
  end_ts INTEGER NOT NULL,
  body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS wafer_verdict_station_end ON wafer_verdict (line, station, end_ts);
CREATE INDEX IF NOT EXISTS wafer_verdict_end ON wafer_verdict (end_ts);

CREATE TABLE IF NOT EXISTS equipment_state (
  line TEXT NOT NULL,
  station TEXT NOT NULL,
  ts INTEGER NOT NULL,
  state TEXT NOT NULL,
  reason TEXT,
  replay INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (line, station, ts)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS equipment_state_ts ON equipment_state (ts);
`;

export const INSERT_ALERT_EVENT =
  'INSERT OR REPLACE INTO alert_event (alert_id, at, to_state, line, station, body) VALUES (@alertId, @at, @to, @line, @station, @body)';

export function selectAlertEvents(byLine: boolean, byStation: boolean): string {
  const where = ['at >= @from', 'at < @to'];
  if (byLine) where.push('line = @line');
  if (byStation) where.push('station = @station');
  return `SELECT body FROM alert_event WHERE ${where.join(' AND ')} ORDER BY at ASC, alert_id ASC, to_state ASC LIMIT @limit`;
}

/** The score table; a function (hoisted) so the migration below builds its replacement from the same definition. */
function scoreTable(name: string): string {
  return `CREATE TABLE IF NOT EXISTS ${name} (
  line TEXT NOT NULL,
  station TEXT NOT NULL,
  ts INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  score REAL NOT NULL,
  threshold REAL NOT NULL,
  t2 REAL,
  spe REAL,
  anomalous INTEGER NOT NULL,
  health TEXT NOT NULL,
  model_version TEXT NOT NULL,
  replay INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (line, station, ts)
) WITHOUT ROWID;`;
}

/**
 * Databases made before T² and SPE became nullable (a model may report only a score) have them NOT NULL, and
 * CREATE TABLE IF NOT EXISTS leaves an existing table as it is: rebuild it once, keeping its rows.
 */
export const MIGRATE_SCORE_NULLABLE_STATS = `
${scoreTable('score_v2')}
INSERT INTO score_v2 SELECT line, station, ts, seq, score, threshold, t2, spe, anomalous, health, model_version, replay FROM score;
DROP TABLE score;
ALTER TABLE score_v2 RENAME TO score;
CREATE INDEX IF NOT EXISTS score_ts ON score (ts);
`;

export const INSERT_READING = `INSERT OR REPLACE INTO reading (line, station, ts, seq, sensor_values, context, replay)
  VALUES (@line, @station, @ts, @seq, @values, @context, @replay)`;

export const INSERT_SCORE = `INSERT OR REPLACE INTO score
  (line, station, ts, seq, score, threshold, t2, spe, anomalous, health, model_version, replay)
  VALUES (@line, @station, @ts, @seq, @score, @threshold, @t2, @spe, @anomalous, @health, @modelVersion, @replay)`;

export const INSERT_ANOMALY = `INSERT OR REPLACE INTO anomaly (id, line, station, ts, body) VALUES (@id, @line, @station, @ts, @body)`;

const STATION_RANGE = 'line = @line AND station = @station AND ts >= @from AND ts < @to';

export const SELECT_READINGS = `SELECT ts, seq, sensor_values, context FROM reading
  WHERE ${STATION_RANGE} ORDER BY ts DESC LIMIT @limit`;

/** The newest `limit` buckets with the seq of each bucket's last point. `%` truncates to integers (a bound JS number is REAL, so `/` would not). */
export const SELECT_READING_BUCKETS = `WITH bucket AS (
    SELECT (ts - ts % @bucket) AS bucket, max(ts) AS last_ts FROM reading
    WHERE ${STATION_RANGE} GROUP BY 1 ORDER BY 1 DESC LIMIT @limit)
  SELECT bucket.bucket AS bucket, reading.seq AS seq FROM bucket
  JOIN reading ON reading.line = @line AND reading.station = @station AND reading.ts = bucket.last_ts`;

/** Per-bucket mean of each sensor; the caller narrows `from` to the oldest kept bucket, which bounds the scan. */
export const SELECT_READING_MEANS = `SELECT (reading.ts - reading.ts % @bucket) AS bucket, value.key AS sensor, avg(value.value) AS mean
  FROM reading, json_each(reading.sensor_values) AS value
  WHERE reading.line = @line AND reading.station = @station AND reading.ts >= @from AND reading.ts < @to
  GROUP BY 1, 2`;

export const SELECT_SCORES = `SELECT ts, score, threshold, t2, spe, anomalous, health, model_version FROM score
  WHERE ${STATION_RANGE} ORDER BY ts DESC LIMIT @limit`;

/** Max score, mean threshold, max T²/SPE per bucket; health and model of the bucket's last point. */
export const SELECT_SCORE_BUCKETS = `WITH bucket AS (
    SELECT (ts - ts % @bucket) AS bucket, max(score) AS score, avg(threshold) AS threshold,
      max(t2) AS t2, max(spe) AS spe, max(ts) AS last_ts FROM score
    WHERE ${STATION_RANGE} GROUP BY 1 ORDER BY 1 DESC LIMIT @limit)
  SELECT bucket.bucket AS ts, bucket.score, bucket.threshold, bucket.t2, bucket.spe,
    score.health AS health, score.model_version AS model_version FROM bucket
  JOIN score ON score.line = @line AND score.station = @station AND score.ts = bucket.last_ts
  ORDER BY 1 DESC`;

/** A verdict's time is the end of its step (`end` is an SQL keyword, hence `end_ts`). */
export const INSERT_WAFER_VERDICT = 'INSERT OR REPLACE INTO wafer_verdict (id, line, station, end_ts, body) VALUES (@id, @line, @station, @end, @body)';

export function selectWaferVerdicts(byLine: boolean, byStation: boolean): string {
  const where = ['end_ts >= @from', 'end_ts < @to'];
  if (byLine) where.push('line = @line');
  if (byStation) where.push('station = @station');
  return `SELECT body FROM wafer_verdict WHERE ${where.join(' AND ')} ORDER BY end_ts DESC, id ASC LIMIT @limit`;
}

/** One statement per filter shape, not `@x IS NULL OR`, so each plan can use an index. */
export function selectAnomalies(byLine: boolean, byStation: boolean): string {
  const where = ['ts >= @from', 'ts < @to'];
  if (byLine) where.push('line = @line');
  if (byStation) where.push('station = @station');
  return `SELECT body FROM anomaly WHERE ${where.join(' AND ')} ORDER BY ts DESC, id DESC LIMIT @limit`;
}

export function countReadings(byLine: boolean, byStation: boolean): string {
  const where = ['ts >= @from', 'ts < @to'];
  if (byLine) where.push('line = @line');
  if (byStation) where.push('station = @station');
  return `SELECT count(*) AS n FROM reading WHERE ${where.join(' AND ')}`;
}

export const STATIONS = 'SELECT DISTINCT station FROM reading WHERE line = @line AND ts >= @from AND ts < @to ORDER BY station';

/** Keyed (line, station, ts = the state's since): a retained state message delivered again overwrites itself. */
export const INSERT_EQUIPMENT_STATE = `INSERT OR REPLACE INTO equipment_state (line, station, ts, state, reason, replay)
  VALUES (@line, @station, @ts, @state, @reason, @replay)`;

export const SELECT_EQUIPMENT_STATES = `SELECT ts, state, reason FROM equipment_state
  WHERE ${STATION_RANGE} ORDER BY ts DESC LIMIT @limit`;

/** The state at `from`: one seek backwards on the primary key. */
export const SELECT_EQUIPMENT_STATE_BEFORE = `SELECT ts, state, reason FROM equipment_state
  WHERE line = @line AND station = @station AND ts < @from ORDER BY ts DESC LIMIT 1`;

export const PRUNE = [
  'DELETE FROM reading WHERE ts < ?',
  'DELETE FROM score WHERE ts < ?',
  'DELETE FROM anomaly WHERE ts < ?',
  'DELETE FROM alert_event WHERE at < ?',
  'DELETE FROM wafer_verdict WHERE end_ts < ?',
  // A tool may sit in one state for longer than the retention: its latest change before the cutoff is the state at
  // the cutoff, so it stays; only changes a later one (also before the cutoff) made obsolete go. The cutoff is bound
  // once, like the others, and named through a CTE (better-sqlite3 refuses `?1` used twice).
  `WITH cutoff(at) AS (SELECT ?) DELETE FROM equipment_state WHERE ts < (SELECT at FROM cutoff) AND EXISTS (
    SELECT 1 FROM equipment_state AS later, cutoff WHERE later.line = equipment_state.line AND later.station = equipment_state.station
      AND later.ts > equipment_state.ts AND later.ts <= cutoff.at)`,
];
