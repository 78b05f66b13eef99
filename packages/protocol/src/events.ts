import type {
  Anomaly,
  BrokenCorrelation,
  Command,
  Contributor,
  DataQualityEvent,
  EquipmentState,
  Health,
  ProcessContext,
  RuleHit,
  ServiceHealth,
  Severity,
  StateMessage,
  StationMeta,
  StationStatus,
  Truth,
  WaferVerdict,
  WaferVerdictSummary,
} from './schemas.js';

/** A station as the API knows it: what it is plus the latest of everything the line says about it. */
export interface StationView {
  meta: StationMeta;
  state: StateMessage | null;
  status: StationStatus | null;
  /** Epoch ms of the latest telemetry-derived status. */
  lastSeen: number | null;
}

/** Sent on connect and after every reconnect, so a client never starts from a partial picture. */
export interface LineSnapshot {
  /** The live line. `stations` and `anomalies` are its own; the replay line's are under `replay`. */
  line: string;
  stations: StationView[];
  anomalies: Anomaly[];
  /**
   * The latest wafer-level verdicts of the live line, newest first (by the step's end): at most
   * `SNAPSHOT_WAFERS_PER_STATION` per station. `GET /api/stations/:station/wafers` has more.
   */
  wafers: WaferVerdict[];
  serverTime: number;
  /** Whether the API's own broker link is up; false means every status below may be stale. */
  brokerConnected: boolean;
  /** The replay line (a separate line id, never the live one) and the replay that plays into it. */
  replay: ReplayLineSnapshot;
  /**
   * Every open alert (pending, firing, acknowledged; at most 200, newest first) and then the latest resolved ones
   * (at most 50), of the live and the replay line alike (replayed ones say so). The API always sends it; it is
   * optional only because the line part of the snapshot is built without the alerting component.
   */
  alerts?: AlertView[];
  /** The live line's throughput; optional for the same reason as `alerts`. */
  stats?: LineStats;
  /** The API's STALE_AFTER_MS: a station silent longer than this is shown stale, never healthy. */
  staleAfterMs?: number;
  /** The health of the services that watch this line (detectors), as they last reported it; see `services`. */
  services?: ServiceHealth[];
}

/**
 * The replay line as a snapshot carries it: the current (or last) replay, and the stations and anomalies the
 * detector reported for the replayed data. Stations stay after a replay ends (the broker retains them) until the
 * next replay starts, which clears them.
 *
 * @example
 * { status: { state: 'playing', line: 'fab1-replay', run: { recording: 'demo.jsonl.gz', speed: 10, ... } },
 *   stations: [{ meta: { line: 'fab1-replay', station: 'etch-01', ... }, status: { health: 'OK', ... }, ... }],
 *   anomalies: [] }
 */
export interface ReplayLineSnapshot {
  status: ReplayStatus;
  stations: StationView[];
  anomalies: Anomaly[];
  /** As `LineSnapshot.wafers`, for the replay line. */
  wafers: WaferVerdict[];
}

/** Wafer verdicts a snapshot carries per station: the station view's list, and enough for a tile's badge. */
export const SNAPSHOT_WAFERS_PER_STATION = 20;

/** Speeds a replay runs at: 1..100 times the data clock, or `max` (as fast as the broker acknowledges). */
export type ReplaySpeedSetting = number | 'max';

/** `shifted` moves the run so that it starts now; `original` keeps the recorded times. */
export type ReplayTimestamps = 'shifted' | 'original';

/** `idle`: no replay since the API started. starting, playing and stopping mean a replay is running. */
export type ReplayState = 'idle' | 'starting' | 'playing' | 'stopping' | 'completed' | 'stopped' | 'failed';

/** True while a replay is running (publishing, or about to, or flushing): one at a time. */
export function isReplayRunning(state: ReplayState): boolean {
  return state === 'starting' || state === 'playing' || state === 'stopping';
}

/**
 * Body of `POST /api/replay`: which stored recording (a file name inside the API's RECORDINGS_DIR), how fast,
 * whether to loop, and which timestamps. It always plays into the replay line, never the live line.
 *
 * @example
 * { recording: 'demo-fab1.jsonl.gz', speed: 10 }
 * { recording: 'etch-wafer-07.jsonl.gz', speed: 'max', loop: true, timestamps: 'original' }
 */
export interface ReplayRequest {
  recording: string;
  speed: ReplaySpeedSetting;
  loop?: boolean;
  timestamps?: ReplayTimestamps;
}

/** Where a running replay is. `fraction` is sent/total (0..1), null while looping (no end). */
export interface ReplayProgressView {
  sent: number;
  total: number | null;
  acked: number;
  errors: number;
  /** Loop pass, from 0. */
  pass: number;
  /** Estimated ms until the end; null when unknown (looping, or nothing sent yet at `max`). */
  etaMs: number | null;
  /** Data time of the latest replayed entry (shifted when the replay shifts timestamps). */
  dataAt: number | null;
  fraction: number | null;
}

/** How a replay ended. `error` is a message for people, with no server paths in it. */
export interface ReplayOutcome {
  outcome: 'completed' | 'stopped' | 'failed';
  error: string | null;
  sent: number;
  acked: number;
  errors: number;
  /** Publishes the broker had not acknowledged when the replay gave up waiting. */
  unacked: number;
  passes: number;
}

/** One replay started from the API. */
export interface ReplayRun {
  /** Unique per API process, e.g. `r3-lq2x9a`. */
  id: string;
  recording: string;
  speed: ReplaySpeedSetting;
  loop: boolean;
  timestamps: ReplayTimestamps;
  startedAt: number;
  endedAt: number | null;
  progress: ReplayProgressView;
  result: ReplayOutcome | null;
}

/**
 * The replay as `GET /api/replay`, the `replay` event and the snapshot show it: its state, the line it plays into
 * and, once one has been started, the run.
 *
 * @example
 * { state: 'idle', line: 'fab1-replay', run: null }
 */
export interface ReplayStatus {
  state: ReplayState;
  /** The replay line: where the API replays to. Never the live line. */
  line: string;
  run: ReplayRun | null;
}

/**
 * A change on the replay line. These never come as the plain `status`/`anomaly`/`state`/`meta` events, which
 * are the live line's only, so a client that does not know about replays can never mix them into the live view.
 * `reset` means a new replay cleared the line: drop its stations and anomalies.
 */
export type ReplayLineEvent =
  | { kind: 'meta'; line: string; meta: StationMeta }
  | { kind: 'state'; line: string; station: string; state: StateMessage }
  /** The replay line's statuses, batched like the live line's `statuses`. */
  | { kind: 'statuses'; line: string; statuses: StationStatus[] }
  | { kind: 'anomaly'; line: string; anomaly: Anomaly }
  | { kind: 'wafer'; line: string; verdict: WaferVerdict }
  | { kind: 'quality'; line: string; event: DataQualityEvent }
  | { kind: 'reset'; line: string };

/** One station of a recording, from its header. */
export interface RecordingStationInfo {
  line: string;
  station: string;
  type: string | null;
  sensors: number;
  telemetry: number;
}

/**
 * One file of `GET /api/recordings`. A file whose header cannot be read is listed with `error` and no details,
 * so one broken file never hides the others.
 *
 * @example
 * { name: 'demo-fab1.jsonl.gz', bytes: 812345, modifiedAt: 1764400000000, error: null, source: 'simulator: seed 1',
 *   scenario: 'demo', run: null, labels: 'truth', lines: ['fab1'], start: 1764400000000, end: 1764401200000,
 *   durationMs: 1200000, stations: [...], counts: { telemetry: 9600, state: 40, meta: 8, truth: 12, labelled: 0 } }
 */
export interface RecordingInfo {
  name: string;
  bytes: number;
  modifiedAt: number;
  error: string | null;
  /** `kind: detail`, e.g. `simulator: seed 1, 1 Hz, ...`. */
  source: string | null;
  scenario: string | null;
  run: string | null;
  labels: 'none' | 'truth' | 'points' | 'both' | null;
  lines: string[];
  start: number | null;
  end: number | null;
  durationMs: number | null;
  stations: RecordingStationInfo[];
  counts: { telemetry: number; state: number; meta: number; truth: number; labelled: number } | null;
}

/** `pending` waits out the for-duration and has told nobody; `acknowledged` is still firing, with someone on it. */
export type AlertViewState = 'pending' | 'firing' | 'acknowledged' | 'resolved';

/** `process`: raised by a station's model or rules. `data_quality`: by the feed (stale, offline, bad sensors). */
export type AlertViewClass = 'process' | 'data_quality';

/**
 * Which verdict raised an alert. `sample`: the sample-wise model score and the feed checks of the station, judged
 * on every snapshot. `wafer`: a wafer-level verdict, judged once per wafer and recipe step (source `wafer/{step}`).
 */
export type AlertLevel = 'sample' | 'wafer';

/** The wafer a wafer-level alert is about, from its verdict. */
export interface AlertWafer {
  /** The verdict's id, `{line}/{station}/{wafer}/{step}/{start}`. */
  verdictId: string;
  wafer: string;
  lot: string | null;
  recipe: string | null;
  step: string;
  /** ts of the step's first and last snapshot. */
  start: number;
  end: number;
  /** The baseline version the wafer was judged against (it changes with every re-baseline). */
  baseline: string;
}

/** The station's sample-wise verdict as of a wafer-level alert's evidence: its status, in short. */
export interface SampleVerdictSummary {
  health: Health;
  score: number | null;
  threshold: number | null;
  /** ts of the reading the status is about. */
  ts: number;
}

/**
 * What an alert says about its station, as of its latest evidence: enough to act on without a second lookup.
 * Shared by the alert itself, its view on the page and the webhook payload.
 */
export interface AlertEvidence {
  score: number | null;
  threshold: number | null;
  modelVersion: string | null;
  /** Ranked, largest contribution first. */
  contributors: Contributor[];
  equipmentState: EquipmentState | null;
  /** Raised by replayed data, not by the line as it runs now: never sent to production webhooks unless asked. */
  replay: boolean;
  /** Absent in alerts stored before wafer-level verdicts existed: read it as `sample`. */
  level?: AlertLevel;
  /** Wafer-level alerts: the wafer of the verdict. Its contributors are indicators (`stat` set). */
  wafer?: AlertWafer | null;
  /** SPC run rules the detector's latest anomaly in this condition fired (sample-level model alerts). */
  rules?: RuleHit[];
  /** Sensor pairs that anomaly found decoupled, strongest first. */
  brokenCorrelations?: BrokenCorrelation[];
  /** The station's latest wafer-level verdict when the evidence was taken, beside the sample-wise evidence. */
  lastWafer?: WaferVerdictSummary | null;
  /** Wafer-level alerts: the station's sample-wise verdict when the wafer's verdict arrived, beside it. */
  lastSample?: SampleVerdictSummary | null;
}

/**
 * One alert episode as the page shows it, from the `alert` event and the snapshot. The evidence (score,
 * contributors, ...) is the latest that showed the condition active, so a clearing alert still says why it fired.
 *
 * @example
 * { id: 'fab1/etch-01/model/1764396000000', line: 'fab1', station: 'etch-01', source: 'model', class: 'process',
 *   state: 'acknowledged', severity: 'critical', startedAt: 1764396000000, firingAt: 1764396030000, resolvedAt: null,
 *   flapping: false, muted: false, ack: { by: 'ana', at: 1764396100000, comment: 'checking the RF match' },
 *   score: 3.2, threshold: 1, modelVersion: 'etch@3', equipmentState: 'PRODUCTIVE', replay: false,
 *   contributors: [{ sensor: 'rf_power', value: 1620, expected: 1500, contribution: 0.71 }] }
 */
export interface AlertView extends AlertEvidence {
  /** Stable episode id, `{line}/{station}/{source}/{startedAt}`: the same data gives the same id. */
  id: string;
  line: string;
  station: string;
  /** What raised it: `model`, `data_quality`, `offline`, `wafer/<step>` (one per recipe step), ... */
  source: string;
  class: AlertViewClass;
  state: AlertViewState;
  severity: Severity;
  startedAt: number;
  firingAt: number | null;
  resolvedAt: number | null;
  /** The key keeps starting new episodes: its notifications are held back until it settles. */
  flapping: boolean;
  /** The tool's equipment state (PM, down) mutes it: tracked, but nobody is notified. */
  muted: boolean;
  ack: { by: string; at: number; comment: string } | null;
}

/**
 * One webhook subscription's deliveries, for the page. Never the URL's path or query (they may carry a token),
 * never a secret or a custom header. `pending` and `dead` stop counting at `countLimit`: `capped` says so.
 */
export interface SubscriptionDeliveryStatus {
  id: string;
  /** `https://mes.fab.example:8443`: scheme, host and port only. */
  origin: string;
  pending: number;
  dead: number;
  capped: boolean;
  /** The most recent attempt among its latest deliveries; null when none was tried yet. */
  lastAttemptAt: number | null;
  lastOk: boolean | null;
  /** HTTP status of that attempt; null for a network error. */
  lastStatus: number | null;
  /** `HTTP 500`, `network error ECONNREFUSED`, `timeout`, ...: codes only, never a receiver's words. */
  lastError: string | null;
}

/**
 * The webhook outbox at a glance: counts over every delivery ever queued, and each subscription's state.
 *
 * @example
 * { at: 1764396101000, pending: 1, delivered: 3, dead: 0, countLimit: 1000, subscriptions: [{ id: 'sub-mes',
 *   origin: 'https://mes.fab.example', pending: 1, dead: 0, capped: false, lastAttemptAt: 1764396100500,
 *   lastOk: false, lastStatus: 503, lastError: 'HTTP 503' }] }
 */
export interface DeliveryStatus {
  /** Server time the counts were taken. */
  at: number;
  pending: number;
  delivered: number;
  dead: number;
  /** Per-subscription counts stop here (see `capped`). */
  countLimit: number;
  subscriptions: SubscriptionDeliveryStatus[];
}

/**
 * Body of `POST /api/stations/:station/baseline` (API token): the station's next `wafers` wafers (1..50, default 5)
 * become its new wafer-level baseline, e.g. right after a PM. The API answers 202 with the `Command` it published
 * to the detector (`topics.command`); the verdicts of those wafers come as `baselining`.
 *
 * @example
 * { wafers: 5, reason: 'chamber clean, PM 2025-11-29' }
 */
export interface RebaselineRequest {
  wafers?: number;
  reason?: string;
}

/** The answer to a re-baseline: the command as published. */
export type RebaselineResponse = Command;

/** Every REST error body: a stable code for programs and a message for people. */
export interface ApiErrorBody {
  error: { code: string; message: string };
}

/**
 * socket.io events the server emits. Both the API and the dashboard are typed by these maps. `status`, `anomaly`,
 * `state`, `meta`, `truth`, `wafer` and `quality` are the live line's only; the replay line's come as `replayLine`.
 */
export interface ServerToClientEvents {
  snapshot: (snapshot: LineSnapshot) => void;
  /**
   * The live line's statuses, batched: every station's latest, at most one batch every 250 ms whatever the line's
   * size and rate (a health change goes at once, with whatever waits).
   */
  statuses: (batch: StationStatus[]) => void;
  anomaly: (anomaly: Anomaly) => void;
  state: (update: { line: string; station: string; state: StateMessage }) => void;
  meta: (meta: StationMeta) => void;
  truth: (truth: Truth) => void;
  broker: (link: { connected: boolean; at: number }) => void;
  /** The replay's status and progress: at most about 4 a second, and at once when its state changes. */
  replay: (status: ReplayStatus) => void;
  /** A change on the replay line. */
  replayLine: (event: ReplayLineEvent) => void;
  /**
   * An alert changed. A new state, severity, acknowledgement, flapping or muting goes out at once; new evidence
   * alone (score, contributors) at most once a second per alert, always ending with the latest.
   */
  alert: (alert: AlertView) => void;
  /** The webhook outbox, on connect and whenever it changes: at most once a second. */
  deliveries: (status: DeliveryStatus) => void;
  /** A wafer-level verdict of the live line (each once, though MQTT may deliver it twice). */
  wafer: (verdict: WaferVerdict) => void;
  /** A data-quality issue of a live station raised or cleared; the station's status lists the active ones. */
  quality: (event: DataQualityEvent) => void;
  /**
   * Readings of the station this client watches (see `watch`), batched: at most about 4 batches a second per
   * station however fast the tool sends, with every reading received in between, up to 2,000 a batch (more are
   * dropped and counted in the API's `linewatch_api_readings_dropped_total`).
   */
  readings: (batch: ReadingsBatch) => void;
  /** The live line's throughput and the like, every few seconds (also in the snapshot). */
  lineStats: (stats: LineStats) => void;
  /** Every service's health, whenever one changes (also in the snapshot). */
  services: (services: ServiceHealth[]) => void;
}

/** socket.io events a client may send. */
export interface ClientToServerEvents {
  /** Ask for a fresh snapshot, e.g. after the tab was hidden. */
  resync: () => void;
  /**
   * Stream this station's readings to me as `readings` batches (the station view's live charts); null stops.
   * One station per client: a new `watch` replaces the last. `line` may be the live or the replay line.
   */
  watch: (selection: { line: string; station: string } | null) => void;
}

/** One reading as the live feed and the history carry it. */
export interface ReadingSample {
  ts: number;
  seq: number;
  values: Record<string, number>;
  context?: ProcessContext | undefined;
}

/**
 * Readings of one station sent together, oldest first.
 *
 * @example
 * { line: 'fab1', station: 'etch-01', readings: [{ ts: 1764400000000, seq: 41, values: { rf_power: 1498.2 } }] }
 */
export interface ReadingsBatch {
  line: string;
  station: string;
  readings: ReadingSample[];
}

/**
 * The live line's output: wafers that reached the last station in process order (the first sighting of each
 * wafer id in its status context) over the trailing window, as a rate per hour. null until two wafers were seen.
 *
 * @example
 * { at: 1764400000000, station: 'unload-01', wafersPerHour: 42.5, wafers: 17, windowMs: 1440000 }
 */
export interface LineStats {
  at: number;
  /** The station counted: the last in process order that reports a wafer; null while none does. */
  station: string | null;
  wafersPerHour: number | null;
  /** Wafers counted in the window. */
  wafers: number;
  /** Length of the window the rate is over: an hour, or less since the API started. */
  windowMs: number;
}

/** One equipment-state change (SEMI E10) as the history carries it: the station entered `state` at `ts`. */
export interface StateSample {
  ts: number;
  state: EquipmentState;
  reason?: string | undefined;
}

/** One alert transition as the history carries it, for markers on the station's charts. */
export interface AlertMark {
  alertId: string;
  /** When the transition happened. */
  at: number;
  from: string | null;
  to: string;
  severity: Severity;
  /** What raised it: `model`, `data_quality`, `offline`, `wafer/{recipe}/{step}`, ... */
  source: string;
  reason: string;
}

/** One scored reading as the history carries it (bucketed: mean of values, max of score). */
export interface ScoreSample {
  ts: number;
  score: number;
  threshold: number;
  t2: number | null;
  spe: number | null;
  anomalous: boolean;
  health: Health;
  modelVersion: string;
}

/**
 * `GET /api/stations/:station/history`: everything the station view draws over a time range. Long ranges come
 * bucketed (`bucketMs`), from InfluxDB's downsampled data where it has it. `states` starts with the state the
 * station was in at `from` (when known), so the band is filled from the left edge.
 */
export interface StationHistory {
  line: string;
  station: string;
  from: number;
  to: number;
  bucketMs: number | null;
  readings: ReadingSample[];
  scores: ScoreSample[];
  states: StateSample[];
  /** Newest first, at most 500. */
  anomalies: Anomaly[];
  /** Oldest first. */
  alerts: AlertMark[];
}
