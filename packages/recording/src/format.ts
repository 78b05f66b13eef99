import {
  EpochMsSchema,
  IdSchema,
  SensorNameSchema,
  StateMessageSchema,
  StationMetaSchema,
  TelemetrySchema,
  TruthSchema,
} from '@linewatch/protocol';
import { z } from 'zod';

/** Value of the header's `format` field; a reader refuses any other file. */
export const RECORDING_FORMAT = 'linewatch-recording';
export const RECORDING_VERSION = 1;

/** Where a recording came from. `detail` says which broker, scenario file, CSV file or InfluxDB range. */
export const RecordingSourceSchema = z.object({
  kind: z.enum(['simulator', 'mqtt', 'replay', 'csv', 'store']),
  detail: z.string().max(500),
});
export type RecordingSource = z.infer<typeof RecordingSourceSchema>;

/** One station seen in a recording: its sensors in first-seen order, and its type when a meta message said so. */
export const RecordedStationSchema = z.object({
  line: IdSchema,
  station: IdSchema,
  type: IdSchema.optional(),
  sensors: z.array(SensorNameSchema),
  telemetry: z.number().int().nonnegative(),
});
export type RecordedStation = z.infer<typeof RecordedStationSchema>;

/**
 * First line of every recording. Counts and the time range are computed by the writer from what it wrote, so
 * they always match the body.
 *
 * @example
 * { format: 'linewatch-recording', version: 1, createdAt: 1764400000000, source: { kind: 'simulator', detail: 'seed 7' },
 *   lines: ['fab1'], stations: [...], start: 1764400000000, end: 1764400060000,
 *   counts: { telemetry: 480, state: 8, meta: 8, truth: 2 }, labels: 'truth' }
 */
export const RecordingHeaderSchema = z.object({
  format: z.literal(RECORDING_FORMAT),
  version: z.literal(RECORDING_VERSION),
  createdAt: EpochMsSchema,
  source: RecordingSourceSchema,
  /** Scenario name or file, when the source ran one. */
  scenario: z.string().max(500).optional(),
  /** Free-form run id (a wafer, a CSV file name) when the recording is one run of several. */
  run: z.string().max(200).optional(),
  lines: z.array(IdSchema),
  stations: z.array(RecordedStationSchema),
  /** Data-clock range of the entries (`at`), inclusive; both 0 for an empty recording. */
  start: EpochMsSchema,
  end: EpochMsSchema,
  counts: z.object({
    telemetry: z.number().int().nonnegative(),
    state: z.number().int().nonnegative(),
    meta: z.number().int().nonnegative(),
    truth: z.number().int().nonnegative(),
    /** Telemetry entries that carry a point label (CSV imports). */
    labelled: z.number().int().nonnegative(),
  }),
  /**
   * Ground truth the recording carries: `truth` fault windows (simulator), `points` per-snapshot labels (CSV
   * label column), both, or none.
   */
  labels: z.enum(['none', 'truth', 'points', 'both']),
});
export type RecordingHeader = z.infer<typeof RecordingHeaderSchema>;

const entryBase = {
  /**
   * Place on the recording's data clock, epoch ms: a telemetry snapshot's `ts`; for other messages the data
   * time they arrived at (the latest telemetry `ts` seen, or their own time when nothing came before).
   * Replay paces on it.
   */
  at: EpochMsSchema,
  line: IdSchema,
  station: IdSchema,
};

/**
 * One body line. Telemetry may carry a point label (1 = faulty) and the fault's name, which CSV imports take
 * from a label column.
 */
export const RecordingEntrySchema = z.discriminatedUnion('kind', [
  z.object({
    ...entryBase,
    kind: z.literal('telemetry'),
    msg: TelemetrySchema,
    label: z.union([z.literal(0), z.literal(1)]).optional(),
    fault: z.string().max(200).optional(),
  }),
  z.object({ ...entryBase, kind: z.literal('state'), msg: StateMessageSchema }),
  z.object({ ...entryBase, kind: z.literal('meta'), msg: StationMetaSchema }),
  z.object({ ...entryBase, kind: z.literal('truth'), msg: TruthSchema }),
]);
export type RecordingEntry = z.infer<typeof RecordingEntrySchema>;
export type TelemetryEntry = Extract<RecordingEntry, { kind: 'telemetry' }>;

/** File name suffix of a recording. */
export const RECORDING_EXTENSION = '.jsonl.gz';
