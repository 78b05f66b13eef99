import { z } from 'zod';
import { ID_PATTERN } from './topics.js';

/** A line or station id. */
export const IdSchema = z.string().regex(ID_PATTERN, 'ids are 1-64 chars of A-Z a-z 0-9 _ . - and start alphanumeric');

/** Sensor names are snake_case-ish identifiers: they become InfluxDB field keys and ONNX feature names. */
export const SensorNameSchema = z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/, 'sensor names are identifiers of up to 64 chars');

/** Epoch milliseconds. */
export const EpochMsSchema = z.number().int().nonnegative();

/** Where a snapshot sits in production: recipe, step, lot and wafer. Each is optional because real feeds omit some. */
export const ProcessContextSchema = z
  .object({
    recipe: z.string().max(64).optional(),
    step: z.string().max(64).optional(),
    lot: z.string().max(64).optional(),
    wafer: z.string().max(64).optional(),
  })
  .strict();
export type ProcessContext = z.infer<typeof ProcessContextSchema>;

/**
 * One snapshot of all sensors of one tool: `linewatch/v1/{line}/{station}/telemetry`, QoS 1.
 *
 * @example
 * TelemetrySchema.parse({ ts: 1764400000000, seq: 42, values: { rf_power: 1500.2, chamber_pressure: 35.1 },
 *   context: { recipe: 'ETCH-AL-01', step: 'main_etch', lot: 'L0001', wafer: 'L0001-03' } })
 */
export const TelemetrySchema = z
  .object({
    ts: EpochMsSchema,
    /** Per-station counter from the publisher, for gap and duplicate detection. */
    seq: z.number().int().nonnegative(),
    values: z
      .record(SensorNameSchema, z.number().finite())
      .refine((v) => Object.keys(v).length > 0, 'values must hold at least one sensor')
      .refine((v) => Object.keys(v).length <= 256, 'values may hold at most 256 sensors'),
    context: ProcessContextSchema.optional(),
    /** True when the message comes from a replay, not the live line. */
    replay: z.boolean().optional(),
  })
  .strict();
export type Telemetry = z.infer<typeof TelemetrySchema>;

/** SEMI E10 equipment states. */
export const EQUIPMENT_STATES = [
  'PRODUCTIVE',
  'STANDBY',
  'ENGINEERING',
  'SCHEDULED_DOWN',
  'UNSCHEDULED_DOWN',
  'NON_SCHEDULED',
] as const;
export const EquipmentStateSchema = z.enum(EQUIPMENT_STATES);
export type EquipmentState = z.infer<typeof EquipmentStateSchema>;

/**
 * Equipment state of a tool: `linewatch/v1/{line}/{station}/state`, retained.
 *
 * @example
 * StateMessageSchema.parse({ state: 'PRODUCTIVE', since: 1764400000000 })
 */
export const StateMessageSchema = z.object({
  state: EquipmentStateSchema,
  since: EpochMsSchema,
  reason: z.string().max(200).optional(),
  /** True when the message comes from a replay, not the live line. */
  replay: z.boolean().optional(),
});
export type StateMessage = z.infer<typeof StateMessageSchema>;

/** One sensor a station carries, with its unit and physical range. */
export const SensorSpecSchema = z.object({
  name: SensorNameSchema,
  unit: z.string().max(16),
  min: z.number(),
  max: z.number(),
  description: z.string().max(200).optional(),
});
export type SensorSpec = z.infer<typeof SensorSpecSchema>;

/**
 * What a station is: `linewatch/v1/{line}/{station}/meta`, retained, from the simulator, replay or a gateway.
 * `order` is its place in process order; `type` selects its model family (etch, cmp, ...).
 *
 * @example
 * StationMetaSchema.parse({ line: 'fab1', station: 'etch-01', type: 'etch', name: 'Metal etch', order: 3,
 *   sensors: [{ name: 'rf_power', unit: 'W', min: 0, max: 3000 }] })
 */
export const StationMetaSchema = z.object({
  line: IdSchema,
  station: IdSchema,
  type: IdSchema,
  name: z.string().max(100),
  order: z.number().int().nonnegative(),
  sensors: z.array(SensorSpecSchema).min(1).max(256),
  /** True when the message comes from a replay, not the live line. */
  replay: z.boolean().optional(),
});
export type StationMeta = z.infer<typeof StationMetaSchema>;

/** Health as the detector sees it. UNMODELLED: readings are stored but no model scores them yet. */
export const HEALTH_STATES = ['OK', 'WARN', 'ALARM', 'OFFLINE', 'DATA_QUALITY', 'UNMODELLED'] as const;
export const HealthSchema = z.enum(HEALTH_STATES);
export type Health = z.infer<typeof HealthSchema>;

/** Summary indicators a wafer-level model computes per sensor over one wafer's process step. */
export const WAFER_STATS = ['mean', 'std', 'slope', 'min', 'max', 'duration'] as const;
export const WaferStatSchema = z.enum(WAFER_STATS);
export type WaferStat = z.infer<typeof WaferStatSchema>;

/** One sensor's share of an anomaly: observed against what the model expected. */
export const ContributorSchema = z.object({
  sensor: SensorNameSchema,
  value: z.number(),
  expected: z.number(),
  /** Share of the score, 0..1; contributors of one decision sum to at most 1. */
  contribution: z.number(),
  /** Wafer-level only: which indicator of the sensor over the step (`duration` is the step's, sensor `step`). */
  stat: WaferStatSchema.optional(),
});
export type Contributor = z.infer<typeof ContributorSchema>;

/** The Western Electric run rules, evaluated per sensor against limits learned from normal data. */
export const SPC_RULES = ['WE1', 'WE2', 'WE3', 'WE4'] as const;
export const SpcRuleSchema = z.enum(SPC_RULES);
export type SpcRule = z.infer<typeof SpcRuleSchema>;

/**
 * One run rule that fired on one sensor. WE1: one point beyond 3σ; WE2: 2 of 3 beyond 2σ on one side;
 * WE3: 4 of 5 beyond 1σ on one side; WE4: 8 in a row on one side of the centre line.
 */
export const RuleHitSchema = z.object({
  rule: SpcRuleSchema,
  sensor: SensorNameSchema,
  side: z.enum(['high', 'low']),
  value: z.number(),
  /** The centre line and sigma the rule was judged against. */
  center: z.number(),
  sigma: z.number(),
});
export type RuleHit = z.infer<typeof RuleHitSchema>;

/** Two sensors that move together in normal data and no longer do. */
export const BrokenCorrelationSchema = z.object({
  sensors: z.tuple([SensorNameSchema, SensorNameSchema]),
  /** Their correlation in the model's normal data. */
  correlation: z.number(),
  /** Each sensor's deviation from normal, in normal standard deviations, in this snapshot. */
  z: z.tuple([z.number(), z.number()]),
});
export type BrokenCorrelation = z.infer<typeof BrokenCorrelationSchema>;

/** Data-quality problems: the data cannot be trusted, which is not the same as the process being wrong. */
export const DATA_QUALITY_KINDS = ['stuck', 'out_of_range', 'missing_sensor', 'stale', 'seq_gap', 'clock_skew'] as const;
export const DataQualityKindSchema = z.enum(DATA_QUALITY_KINDS);
export type DataQualityKind = z.infer<typeof DataQualityKindSchema>;

/** One active data-quality issue of a station. `sensor` is unset for station-wide issues (gap, skew, stale). */
export const DataQualityIssueSchema = z.object({
  kind: DataQualityKindSchema,
  sensor: SensorNameSchema.optional(),
  /** Reading ts when it was raised. */
  since: EpochMsSchema,
  detail: z.string().max(300),
});
export type DataQualityIssue = z.infer<typeof DataQualityIssueSchema>;

/** A data-quality issue raised or cleared: `linewatch/v1/{line}/{station}/quality`, from the detector. */
export const DataQualityEventSchema = DataQualityIssueSchema.extend({
  line: IdSchema,
  station: IdSchema,
  /** Reading ts of the snapshot that raised or cleared it. */
  ts: EpochMsSchema,
  state: z.enum(['raised', 'cleared']),
  replay: z.boolean().optional(),
});
export type DataQualityEvent = z.infer<typeof DataQualityEventSchema>;

/**
 * Detector status of a station: `linewatch/v1/{line}/{station}/status`, retained.
 * `score` is normalised so that `threshold` (1.0 for PCA models) is the control limit.
 */
export const StationStatusSchema = z.object({
  line: IdSchema,
  station: IdSchema,
  health: HealthSchema,
  /** When `health` last changed. */
  since: EpochMsSchema,
  /** Timestamp of the latest scored reading. */
  ts: EpochMsSchema,
  score: z.number().nullable(),
  threshold: z.number().nullable(),
  modelVersion: z.string().nullable(),
  /** Top contributors while not OK; empty when healthy. */
  contributors: z.array(ContributorSchema).max(20),
  /** Active data-quality issues; absent or empty when the data is clean. */
  quality: z.array(DataQualityIssueSchema).max(50).optional(),
  /** The latest wafer-level verdict of this station, when it has a wafer model. */
  lastWafer: z.lazy(() => WaferVerdictSummarySchema).optional(),
  /** Process context of the latest scored reading (recipe, step, lot, wafer), when the telemetry carries it. */
  context: ProcessContextSchema.optional(),
  replay: z.boolean().optional(),
});
export type StationStatus = z.infer<typeof StationStatusSchema>;

export const SEVERITIES = ['warning', 'critical'] as const;
export const SeveritySchema = z.enum(SEVERITIES);
export type Severity = z.infer<typeof SeveritySchema>;

/**
 * One anomaly decision: `linewatch/v1/{line}/{station}/anomaly`.
 *
 * @example
 * AnomalySchema.parse({ id: 'fab1/etch-01/1764400000000', line: 'fab1', station: 'etch-01', ts: 1764400000000,
 *   seq: 7, score: 3.2, threshold: 1, t2: 40.1, spe: 2.2, modelVersion: 'etch@1', severity: 'critical',
 *   contributors: [{ sensor: 'rf_power', value: 1620, expected: 1500, contribution: 0.71 }] })
 */
export const AnomalySchema = z.object({
  /** Deterministic: the same data gives the same id, so a replay reproduces it. */
  id: z.string().max(200),
  line: IdSchema,
  station: IdSchema,
  ts: EpochMsSchema,
  seq: z.number().int().nonnegative(),
  score: z.number(),
  threshold: z.number(),
  /** Hotelling T² and its limit; null when the model does not report it (a bring-your-own model with only `score`). */
  t2: z.number().nullable(),
  t2Limit: z.number().optional(),
  /** Squared prediction error (Q) and its limit; null when the model does not report it. */
  spe: z.number().nullable(),
  speLimit: z.number().optional(),
  modelVersion: z.string(),
  severity: SeveritySchema,
  contributors: z.array(ContributorSchema).max(20),
  /** `sample`: one snapshot's model score (the default when absent); `wafer`: a wafer's verdict at the end of a step. */
  level: z.enum(['sample', 'wafer']).optional(),
  /** SPC run rules that fired on this snapshot, next to the model score. */
  rules: z.array(RuleHitSchema).max(20).optional(),
  /** Sensor pairs whose normal correlation this snapshot breaks, strongest first. */
  brokenCorrelations: z.array(BrokenCorrelationSchema).max(10).optional(),
  context: ProcessContextSchema.optional(),
  replay: z.boolean().optional(),
});
export type Anomaly = z.infer<typeof AnomalySchema>;

export const WAFER_VERDICTS = ['ok', 'fault', 'baselining'] as const;

/**
 * The wafer-level (run-to-run) verdict on one wafer's process step: `linewatch/v1/{line}/{station}/wafer`.
 * Given at the end of the step from summary indicators of its trace (mean, std, slope, min, max per sensor,
 * and the step's duration). `baselining`: the wafer is one of the known-good wafers a re-baseline is taken
 * from, so it is not judged.
 */
export const WaferVerdictSchema = z.object({
  /** Deterministic: `{line}/{station}/{wafer}/{step}/{start}`. */
  id: z.string().max(300),
  line: IdSchema,
  station: IdSchema,
  wafer: z.string().max(64),
  lot: z.string().max(64).optional(),
  recipe: z.string().max(64).optional(),
  step: z.string().max(64),
  /** ts of the step's first and last snapshot. */
  start: EpochMsSchema,
  end: EpochMsSchema,
  samples: z.number().int().nonnegative(),
  verdict: z.enum(WAFER_VERDICTS),
  score: z.number(),
  threshold: z.number(),
  t2: z.number().nullable(),
  spe: z.number().nullable(),
  modelVersion: z.string(),
  /** Version of the baseline the indicators were centred on (it changes with every re-baseline). */
  baseline: z.string(),
  /** Top indicators, `stat` set. Empty for an ok wafer. */
  contributors: z.array(ContributorSchema).max(20),
  replay: z.boolean().optional(),
});
export type WaferVerdict = z.infer<typeof WaferVerdictSchema>;

/** What a station's status carries of its latest wafer verdict. */
export const WaferVerdictSummarySchema = WaferVerdictSchema.pick({ wafer: true, step: true, end: true, verdict: true, score: true, threshold: true });
export type WaferVerdictSummary = z.infer<typeof WaferVerdictSummarySchema>;

export const FAULT_TYPES = [
  'drift',
  'step',
  'spike',
  'stuck',
  'noise_burst',
  'broken_correlation',
  'tool_down',
  'dropout',
] as const;
export const FaultTypeSchema = z.enum(FAULT_TYPES);
export type FaultType = z.infer<typeof FaultTypeSchema>;

/**
 * Ground truth of an injected fault: `linewatch/v1/{line}/{station}/truth`, from the simulator and replay only.
 * Sent once when the fault starts (`end` null) and once when it ends.
 */
export const TruthSchema = z.object({
  id: z.string().max(200),
  line: IdSchema,
  station: IdSchema,
  fault: FaultTypeSchema,
  sensors: z.array(SensorNameSchema),
  start: EpochMsSchema,
  end: EpochMsSchema.nullable(),
  replay: z.boolean().optional(),
});
export type Truth = z.infer<typeof TruthSchema>;

/** A message that failed validation, republished on `linewatch/v1/_deadletter` with the reason. */
export const DeadLetterSchema = z.object({
  topic: z.string(),
  reason: z.string(),
  /** The payload as UTF-8 text when it decodes, else base64; cut to `maxPayloadChars`. */
  payload: z.string(),
  encoding: z.enum(['utf8', 'base64']),
  bytes: z.number().int().nonnegative(),
  truncated: z.boolean(),
  receivedAt: EpochMsSchema,
  service: z.string(),
});
export type DeadLetter = z.infer<typeof DeadLetterSchema>;

/**
 * A request to the detector that scores a station: `linewatch/v1/{line}/{station}/command`, QoS 1, from the API.
 * `rebaseline`: re-set the station's wafer-level baseline from its next `wafers` wafers (known good, e.g. right
 * after a PM), for every recipe step it runs, without retraining.
 */
export const CommandSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('rebaseline'),
    /** Deterministic id of the request, echoed in the detector's log and the verdicts it causes. */
    id: z.string().min(1).max(100),
    wafers: z.number().int().min(1).max(50),
    requestedAt: EpochMsSchema,
    reason: z.string().max(200).optional(),
  }),
]);
export type Command = z.infer<typeof CommandSchema>;

/**
 * How a service is doing, retained on `linewatch/v1/_health/{service}/{instance}` (QoS 1). The detector publishes
 * it when its state changes and every few seconds while degraded; its last will publishes `offline` when the
 * broker loses it (a crash, a kill -9, a dead host), and a clean stop publishes `offline` itself.
 * `degraded`: it runs and scores, but writes reach the store late (see `storage`).
 *
 * @example
 * { service: 'detector', instance: 'linewatch-detector-0', line: 'fab1', state: 'degraded', ts: 1764400000000,
 *   reason: 'store unreachable: 41,200 points in the journal',
 *   storage: { state: 'degraded', failing: true, buffered: 12, journalBytes: 9400000, journalPoints: 41200, droppedJournalFull: 0 } }
 */
export const ServiceHealthSchema = z.object({
  service: z.literal('detector'),
  instance: z.string().min(1).max(128),
  /** The line it serves; '+' for every line. */
  line: z.string().min(1).max(64),
  state: z.enum(['ok', 'degraded', 'offline']),
  ts: EpochMsSchema,
  reason: z.string().max(300).optional(),
  storage: z
    .object({
      state: z.enum(['ok', 'degraded']),
      /** The latest store write failed. */
      failing: z.boolean(),
      buffered: z.number().int().nonnegative(),
      journalBytes: z.number().int().nonnegative(),
      journalPoints: z.number().int().nonnegative(),
      /** Points lost because the journal's disk budget was spent (since the service started). */
      droppedJournalFull: z.number().int().nonnegative(),
      /** Points were dropped for that within the last minute. */
      dropping: z.boolean().optional(),
    })
    .optional(),
});
export type ServiceHealth = z.infer<typeof ServiceHealthSchema>;
