import prom from 'prom-client';

/** Fine enough to read a p99 near 20 ms; coarse beyond a second, where only "falling behind" matters. */
const LATENCY_BUCKETS = [0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.0125, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Plain-number view of the flow counters; `received = valid + deadLettered + skippedPartition + ignored`, and
 *  `readingsAccepted = readingsWritten + readingsBuffered + readingsDropped` once writes settle and the journal is
 *  empty (while it holds points, its readings are the difference; readings replayed from a journal an earlier run
 *  left count as written in this one). */
export interface DetectorStats {
  received: number;
  valid: number;
  deadLettered: number;
  /** Dead letters counted but not republished, over DEAD_LETTER_MAX_PER_S. */
  deadLettersUnpublished: number;
  /** Valid snapshots over their station's MAX_RATE_PER_STATION: counted and (sampled) dead-lettered, never scored or stored. */
  rateLimited: number;
  skippedPartition: number;
  ignored: number;
  readingsAccepted: number;
  readingsWritten: number;
  readingsBuffered: number;
  readingsDropped: number;
  scoresWritten: number;
  anomalies: number;
  anomaliesWritten: number;
  /** Wafer verdicts (ok, fault, baselining) written to the store, and lost before reaching it (also in `dropped`). */
  waferVerdictsWritten: number;
  waferVerdictsDropped: number;
  /** Equipment-state changes written to the store, and lost before reaching it (also in `dropped`). */
  statesWritten: number;
  statesDropped: number;
  writeErrors: number;
  /** Points written to the on-disk journal while the store was down or behind, and replayed from it to the store. */
  journalSpilled: number;
  journalReplayed: number;
  /** All points (readings, scores, anomalies, wafer verdicts, state changes) lost; also in linewatch_points_dropped_total. */
  dropped: number;
  unmodelled: number;
  dataQuality: number;
  duplicates: number;
  outOfOrder: number;
  gaps: number;
  /** Data-quality issues raised (linewatch_data_quality_issues_total). */
  qualityIssues: number;
  /** Scored snapshots kept out of the health decision: data-quality issue, warm-up or suspect (linewatch_unjudged_readings_total). */
  unjudged: number;
  scoreErrors: number;
  handlerErrors: number;
}

const ZERO: DetectorStats = {
  received: 0, valid: 0, deadLettered: 0, deadLettersUnpublished: 0, rateLimited: 0, skippedPartition: 0, ignored: 0, readingsAccepted: 0, readingsWritten: 0,
  readingsBuffered: 0, readingsDropped: 0, scoresWritten: 0, anomalies: 0, anomaliesWritten: 0, writeErrors: 0, dropped: 0,
  unmodelled: 0, dataQuality: 0, duplicates: 0, outOfOrder: 0, gaps: 0, qualityIssues: 0, unjudged: 0, scoreErrors: 0, handlerErrors: 0,
  waferVerdictsWritten: 0, waferVerdictsDropped: 0, statesWritten: 0, statesDropped: 0, journalSpilled: 0, journalReplayed: 0,
};

/**
 * The detector's metrics on its own registry: never prom's global one, since the launcher runs several
 * services in one process. Counters are mirrored in `stats` so tests and the launcher read them synchronously.
 */
export class DetectorMetrics {
  readonly registry = new prom.Registry();
  readonly stats: DetectorStats = { ...ZERO };

  private readonly c = <L extends string>(name: string, help: string, labelNames: L[] = []) =>
    new prom.Counter<L>({ name, help, labelNames, registers: [this.registry] });

  readonly received = this.c('linewatch_messages_received_total', 'MQTT messages received', ['kind']);
  readonly valid = this.c('linewatch_messages_valid_total', 'MQTT messages that passed validation', ['kind']);
  readonly deadLetters = this.c('linewatch_dead_letters_total', 'Messages dead-lettered, by reason class', ['reason']);
  readonly deadLettersUnpublished = this.c(
    'linewatch_dead_letters_unpublished_total',
    'Dead letters counted but not republished to the dead-letter topic (over DEAD_LETTER_MAX_PER_S), by reason class',
    ['reason'],
  );
  readonly skippedPartition = this.c('linewatch_skipped_partition_total', 'Messages for stations of another detector partition');
  readonly ignored = this.c('linewatch_messages_ignored_total', 'Valid topics of a kind the detector does not consume', ['kind']);
  readonly readingsWritten = this.c('linewatch_readings_written_total', 'Readings written to the store');
  readonly scoresWritten = this.c('linewatch_scores_written_total', 'Scores written to the store');
  readonly waferVerdictsWritten = this.c('linewatch_wafer_verdicts_written_total', 'Wafer verdicts (ok, fault, baselining) written to the store');
  readonly statesWritten = this.c('linewatch_equipment_states_written_total', 'Equipment-state changes written to the store');
  readonly anomalies = this.c('linewatch_anomalies_total', 'Anomaly decisions emitted', ['severity']);
  readonly writeErrors = this.c('linewatch_store_write_errors_total', 'Failed store writes (retried)');
  readonly pointsDropped = this.c('linewatch_points_dropped_total', 'Points lost before reaching the store', ['kind']);
  readonly seq = this.c('linewatch_seq_events_total', 'Sequence irregularities per station stream', ['kind']);
  readonly seqMissing = this.c('linewatch_seq_missing_total', 'Sequence numbers skipped (gap sizes summed)');
  readonly unscored = this.c('linewatch_unscored_readings_total', 'Readings stored without a score', ['reason']);
  readonly scoreErrors = this.c('linewatch_score_errors_total', 'Snapshots whose model run failed');
  readonly handlerErrors = this.c('linewatch_handler_errors_total', 'Handlers that threw: an MQTT message is then dead-lettered, an internal event is dropped', ['event']);
  readonly statusPublished = this.c('linewatch_status_published_total', 'Status messages published');
  readonly qualityIssues = this.c('linewatch_data_quality_issues_total', 'Data-quality issues raised (stuck, out_of_range, ...)', ['kind']);
  readonly unjudged = this.c(
    'linewatch_unjudged_readings_total',
    'Scored snapshots kept out of the health decision: data_quality (an issue was active), warmup (tool back from down or PM), suspect (anomalous while a sensor may be freezing)',
    ['reason'],
  );
  readonly waferSteps = this.c(
    'linewatch_wafer_steps_total',
    'Wafer steps at their end: verdict ok, fault or baselining; or unjudged with the reason (too_short, not_productive, unmodelled, missing_sensor, data_quality, warmup, late_snapshot: a repeated or late snapshot, not summed, interrupted: the tool went down mid-step, incomplete: cut off by a stop)',
    ['verdict', 'reason'],
  );
  readonly commands = this.c('linewatch_commands_total', 'Commands received from the API, by type', ['type']);
  readonly qualityPublished = this.c('linewatch_quality_published_total', 'Data-quality events published', ['state']);

  readonly journalSpilled = this.c('linewatch_journal_spilled_points_total', 'Points written to the on-disk journal because the store was down or behind');
  readonly journalReplayed = this.c('linewatch_journal_replayed_points_total', 'Points replayed from the on-disk journal to the store');
  readonly journalCorrupt = this.c('linewatch_journal_corrupt_records_total', 'Journal lines that did not parse and were skipped (a torn write or a damaged disk)');

  readonly writeBuffer = new prom.Gauge({ name: 'linewatch_write_buffer_points', help: 'Points waiting for the store', registers: [this.registry] });
  readonly journalBytes = new prom.Gauge({ name: 'linewatch_journal_bytes', help: 'Bytes of the on-disk journal waiting for the store', registers: [this.registry] });
  readonly journalPoints = new prom.Gauge({ name: 'linewatch_journal_points', help: 'Points in the on-disk journal waiting for the store', registers: [this.registry] });
  readonly storageDegraded = new prom.Gauge({
    name: 'linewatch_storage_degraded', help: '1 while the store is failing, the journal holds points, or the write buffer is full', registers: [this.registry],
  });
  readonly connected = new prom.Gauge({ name: 'linewatch_mqtt_connected', help: '1 while the broker link is up', registers: [this.registry] });
  readonly stations = new prom.Gauge({ name: 'linewatch_stations', help: 'Stations tracked by this instance', registers: [this.registry] });
  readonly qualityActive = new prom.Gauge({ name: 'linewatch_data_quality_issues_active', help: 'Data-quality issues active now, all stations', registers: [this.registry] });
  readonly batchSize = new prom.Histogram({
    name: 'linewatch_score_batch_size', help: 'Snapshots per onnxruntime call', buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256], registers: [this.registry],
  });
  readonly scoreSeconds = new prom.Histogram({
    name: 'linewatch_score_duration_seconds', help: 'Time of one batched model run', buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5], registers: [this.registry],
  });
  readonly decisionSeconds = new prom.Histogram({
    name: 'linewatch_decision_latency_seconds',
    help: 'From a snapshot arriving from the broker to its decision (queueing, model choice, batched scoring)',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly readingAgeSeconds = new prom.Histogram({
    name: 'linewatch_reading_age_at_decision_seconds',
    help: "From a snapshot's own timestamp (ts, set by the tool or gateway) to its decision: end-to-end lag, plus any clock skew",
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly writeSeconds = new prom.Histogram({
    name: 'linewatch_store_write_duration_seconds', help: 'Time of one store write', buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5], registers: [this.registry],
  });

  constructor() {
    prom.collectDefaultMetrics({ register: this.registry, prefix: 'linewatch_detector_' });
  }
}
