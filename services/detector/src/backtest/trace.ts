import type { Anomaly, EquipmentState, FaultType, Health, WaferVerdict } from '@linewatch/protocol';
import type { RecordingHeader } from '@linewatch/recording';

/** Ground truth of one station: a fault window from the simulator's truth topic or a run of labelled rows. */
export interface FaultWindow {
  id: string;
  run: string;
  line: string;
  station: string;
  /** Fault type (simulator) or the label column's fault name (import); 'labelled' when the data names none. */
  fault: FaultType | string;
  start: number;
  /** Inclusive. */
  end: number;
  source: 'truth' | 'points';
}

/** What the detector decided for one station over one run, column by column, in arrival order. */
export interface StationTrace {
  line: string;
  station: string;
  type: string | undefined;
  ts: number[];
  seq: number[];
  score: number[];
  threshold: number[];
  anomalous: boolean[];
  health: Health[];
  /** Point label per scored snapshot (null: the recording has no label for it). Filled once the run is read. */
  label: (0 | 1 | null)[];
  /** Snapshots received, scored or not. */
  received: number;
  /** ts of the last snapshot received; a fault window starting after it was cut off by the recording's end. */
  lastTs: number;
  /** ts of every snapshot the station showed as DATA_QUALITY, OFFLINE or UNMODELLED instead of a score. */
  overlays: { ts: number; health: Health }[];
  /** Equipment state changes, in order. */
  states: { since: number; state: EquipmentState }[];
  /** Every change of the health the station showed (status), in order: DATA_QUALITY and OFFLINE episodes come from here. */
  transitions: { ts: number; health: Health }[];
  /** Wafer-level verdicts, in order (`ts` is the end of the step, when the verdict is given; `step` is `{recipe}/{step}`). */
  wafers: { ts: number; start: number; wafer: string; step: string; verdict: WaferVerdict['verdict']; score: number }[];
  /** Snapshots the detector left unscored (no model, missing sensors, duplicate or late). */
  unscored: number;
  /** Snapshots up to this ts trained the model and are left out of every metric; null when none did. */
  trainedUntil: number | null;
}

/** One recording played through the detector. */
export interface RunTrace {
  /** Name of the run in reports: the header's run id, else the file name. */
  run: string;
  file: string;
  header: RecordingHeader;
  stations: StationTrace[];
  windows: FaultWindow[];
  /** Anomaly events as the detector published them (ALARM entries and escalations). */
  anomalies: Anomaly[];
  /** Snapshots stored unscored because a time-aware model had not seen its `lags` earlier ones of the step yet. */
  warmingUp: number;
}
