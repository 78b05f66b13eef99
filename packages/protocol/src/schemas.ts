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

/** One sensor's share of an anomaly: observed against what the model expected. */
export const ContributorSchema = z.object({
  sensor: SensorNameSchema,
  value: z.number(),
  expected: z.number(),
  /** Share of the score, 0..1; contributors of one decision sum to at most 1. */
  contribution: z.number(),
});
export type Contributor = z.infer<typeof ContributorSchema>;

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
  context: ProcessContextSchema.optional(),
  replay: z.boolean().optional(),
});
export type Anomaly = z.infer<typeof AnomalySchema>;

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
