import type { Anomaly, EquipmentState, Health, ProcessContext, ReadingSample, ScoreSample, StateSample, WaferVerdict } from '@linewatch/protocol';

/** One stored snapshot. Key: (line, station, ts); a redelivered snapshot overwrites itself. */
export interface ReadingPoint {
  line: string;
  station: string;
  ts: number;
  seq: number;
  values: Record<string, number>;
  context?: ProcessContext | undefined;
  replay?: boolean | undefined;
}

/** One scored snapshot. Key: (line, station, ts). */
export interface ScorePoint {
  line: string;
  station: string;
  ts: number;
  seq: number;
  score: number;
  threshold: number;
  /** null when the model does not report it (a model with only a `score` output). */
  t2: number | null;
  spe: number | null;
  anomalous: boolean;
  health: Health;
  modelVersion: string;
  replay?: boolean | undefined;
}

/** A batch the detector writes in one go. */
export interface WriteBatch {
  readings: ReadingPoint[];
  scores: ScorePoint[];
  anomalies: Anomaly[];
  /** Wafer-level verdicts (ok, fault, baselining); absent means none. Key: the verdict's id. */
  wafers?: WaferVerdict[] | undefined;
  /** Equipment-state changes; absent means none. Key: (line, station, ts), ts being the state's `since`. */
  states?: StatePoint[] | undefined;
}

/** A station entered `state` (SEMI E10) at `ts` (the state message's `since`). */
export interface StatePoint {
  line: string;
  station: string;
  ts: number;
  state: EquipmentState;
  reason?: string | undefined;
  replay?: boolean | undefined;
}

/** A stored state change, as a query returns it (the protocol's StateSample). */
export type StateRow = StateSample;

/** Points of a batch the store refused for good, by kind, and why. */
export interface WriteResult {
  /** `states`: equipment-state changes refused; absent from backends that never refuse them. */
  rejected: { readings: number; scores: number; anomalies: number; wafers: number; states?: number | undefined; reason: string };
}

export interface RangeQuery {
  line: string;
  station: string;
  /** Inclusive, epoch ms. */
  from: number;
  /** Exclusive, epoch ms. */
  to: number;
  /** Most points returned (newest kept when cut); default 10 000. */
  limit?: number;
  /** When set, aggregate into buckets of this many ms (mean of values, max of score). */
  bucketMs?: number;
}

export interface AnomalyQuery {
  line?: string;
  station?: string;
  from?: number;
  to?: number;
  /** Newest first; default 100. */
  limit?: number;
}

/** Wafer verdicts by the end of their step (`end`), in [from, to). */
export interface WaferVerdictQuery {
  line?: string;
  station?: string;
  /** Inclusive, epoch ms, on the verdict's `end`. */
  from?: number;
  /** Exclusive, epoch ms, on the verdict's `end`. */
  to?: number;
  /** Newest first; default 100. */
  limit?: number;
}

/**
 * One transition of an alert (pending, firing, acknowledged, resolved), kept as an event in the system of record.
 * Key: (alertId, at, to); writing the same event again overwrites itself.
 */
export interface AlertEventPoint {
  alertId: string;
  line: string;
  station: string;
  /** What raised the alert: `model`, `data_quality`, `offline`, ... */
  source: string;
  class: 'process' | 'data_quality';
  from: string | null;
  to: string;
  severity: 'warning' | 'critical';
  at: number;
  reason: string;
  replay: boolean;
}

export interface AlertEventQuery {
  line?: string;
  station?: string;
  from: number;
  to: number;
  /** Oldest first; default 10 000. */
  limit?: number;
}

export interface StationsQuery {
  line: string;
  from: number;
  to: number;
}

export interface CountQuery {
  line?: string;
  station?: string;
  from: number;
  to: number;
}

/** A reading row as a query returns it (the protocol's ReadingSample); bucketed queries return means, with seq of the bucket's last point. */
export type ReadingRow = ReadingSample;

/** A score row as a query returns it (the protocol's ScoreSample); bucketed queries return the bucket's highest score. */
export type ScoreRow = ScoreSample;

/**
 * The system of record for readings, scores, anomalies, wafer verdicts and alert events. InfluxDB 1.x in production,
 * SQLite embedded for a first run; both pass `store.contract.ts`.
 */
export interface Store {
  readonly kind: 'influx' | 'sqlite';
  /** Creates databases, retention policies, continuous queries or tables. Idempotent. */
  init(): Promise<void>;
  /**
   * Writes one batch atomically where the backend allows. Throws on failure so the caller can retry. Points the
   * backend refuses for good (a retry cannot help, e.g. older than InfluxDB's raw retention) are not written and
   * are reported in the result, so the caller counts them as dropped; no result means everything was written.
   */
  write(batch: WriteBatch): Promise<WriteResult | void>;
  readings(q: RangeQuery): Promise<ReadingRow[]>;
  /**
   * State changes in [from, to), oldest first, preceded by the latest change before `from` (the state the station
   * was in at `from`) when there is one. `bucketMs` is ignored: state changes are few.
   */
  equipmentStates(q: RangeQuery): Promise<StateRow[]>;
  scores(q: RangeQuery): Promise<ScoreRow[]>;
  /** Newest first. */
  anomalies(q: AnomalyQuery): Promise<Anomaly[]>;
  /** Wafer verdicts written with `write()`, newest first (by `end`, then by id); one per id. */
  waferVerdicts(q: WaferVerdictQuery): Promise<WaferVerdict[]>;
  /** Number of stored readings in [from, to). */
  countReadings(q: CountQuery): Promise<number>;
  /** Stations of a line with readings in [from, to), sorted: what a replay of a time range plays. */
  stations(q: StationsQuery): Promise<string[]>;
  /**
   * Writes alert transitions as events. Throws on failure so the caller can retry; returns how many were refused
   * for good (InfluxDB: older than the raw retention policy).
   */
  writeAlertEvents(events: AlertEventPoint[]): Promise<{ refused: number }>;
  /** Alert events in [from, to), oldest first. */
  alertEvents(q: AlertEventQuery): Promise<AlertEventPoint[]>;
  /** True when the backend answers. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
