import type {
  Anomaly,
  BrokenCorrelation,
  Contributor,
  EquipmentState,
  RuleHit,
  SampleVerdictSummary,
  ServiceHealth,
  Severity,
  StateMessage,
  StationStatus,
  WaferVerdict,
  WaferVerdictSummary,
} from '@linewatch/protocol';
import { ID_PATTERN, topicSafe } from '@linewatch/protocol';
import type { AlertClass, Observation } from './types.js';

/** Alert sources the detector's verdicts feed: its model score, and the station's data-quality and liveness. */
export const SOURCES = {
  model: 'model', dataQuality: 'data_quality', offline: 'offline',
  /** A detector's own trouble, raised on the line it watches with the detector's instance as the station. */
  detectorOffline: 'detector/offline', storage: 'detector/storage',
} as const;

/** A detector instance (its MQTT client id) as an alert's station: an id safe in a topic, a URL and a tag. */
export function detectorStation(instance: string): string {
  // An id (ID_PATTERN) starts with a letter or digit and has at most 64 characters.
  const safe = topicSafe(instance).slice(0, 64);
  return ID_PATTERN.test(safe) ? safe : `d${safe.slice(0, 63)}`;
}

/**
 * The alert source of a station's wafer-level verdicts on one recipe step: one alert per step, `wafer/{recipe}/{step}`
 * (`wafer/{step}` when the data names no recipe). Two recipes that share a step name (`main_etch`) are two alerts,
 * so a good wafer of one never clears a fault of the other.
 */
export function waferSource(step: string, recipe?: string): string {
  return recipe ? `wafer/${recipe}/${step}` : `wafer/${step}`;
}

/** A wafer whose score passes twice its threshold is critical; any other faulty wafer a warning. */
export const WAFER_CRITICAL_RATIO = 2;

const RANK: Record<Severity, number> = { warning: 1, critical: 2 };

interface StationMemory {
  equipment: EquipmentState | null;
  /** Highest severity the detector announced (anomaly events) in the station's current ALARM. */
  severity: Severity | null;
  /** Contributors of the latest anomaly event in that ALARM, for a status that carries none. */
  contributors: Contributor[];
  /** SPC rule hits and broken correlations of the latest anomaly event in that ALARM. */
  rules: RuleHit[];
  brokenCorrelations: BrokenCorrelation[];
  last: StationStatus | null;
  /** The station's latest wafer verdict, from its status or from the verdict itself, whichever is newer. */
  lastWafer: WaferVerdictSummary | null;
}

function summary(v: WaferVerdict): WaferVerdictSummary {
  return { wafer: v.wafer, step: v.step, end: v.end, verdict: v.verdict, score: v.score, threshold: v.threshold };
}

function isSampleLevel(level: Anomaly['level']): boolean {
  return level === undefined || level === 'sample';
}

/**
 * Turns what the detector publishes (status, anomaly, wafer verdicts) and the tools' equipment state into lifecycle
 * observations, one per alert source:
 * - `model` (process): active while the station is in ALARM; its severity is the highest the detector's sample-level
 *   anomaly events announced in that ALARM (they carry it; the status does not), and its evidence carries the SPC
 *   rules and broken correlations of the latest of them;
 * - `data_quality` (data quality): active while the station is DATA_QUALITY;
 * - `offline` (data quality): active while the station is OFFLINE;
 * - `wafer/{step}` (process, level `wafer`): one observation per wafer verdict of that step, active for `fault`,
 *   clear for `ok`; `baselining` wafers are not judged and give none.
 * Every status gives one observation per sample-level source, active or not, so each alert sees its condition clear.
 * UNMODELLED says nothing about the process and gives none. Every observation carries the station's latest wafer
 * verdict (`lastWafer`), and a wafer's the station's latest status (`lastSample`), so both verdicts show side by side.
 */
export class ObservationFeed {
  private readonly stations = new Map<string, StationMemory>();

  constructor(private readonly deps: { emit: (o: Observation) => void; now: () => number }) {}

  state(update: { line: string; station: string; state: StateMessage }): void {
    this.memory(update.line, update.station).equipment = update.state.state;
  }

  anomaly(a: Anomaly): void {
    // A faulty wafer comes as an anomaly too; its alert is the wafer verdict's, not the sample-wise model's.
    if (!isSampleLevel(a.level)) return;
    const m = this.memory(a.line, a.station);
    if (m.severity === null || RANK[a.severity] > RANK[m.severity]) m.severity = a.severity;
    m.contributors = a.contributors;
    m.rules = a.rules ?? [];
    m.brokenCorrelations = a.brokenCorrelations ?? [];
    // An escalation arrives as an anomaly event while the status stays ALARM: observe it at once.
    if (m.last?.health === 'ALARM') this.emit(m.last, m, SOURCES.model, 'process', true);
  }

  status(s: StationStatus): void {
    const m = this.memory(s.line, s.station);
    m.last = s;
    if (s.lastWafer && (m.lastWafer === null || s.lastWafer.end >= m.lastWafer.end)) m.lastWafer = s.lastWafer;
    if (s.health === 'UNMODELLED') return;
    if (s.health !== 'ALARM') {
      m.severity = null;
      m.contributors = [];
      m.rules = [];
      m.brokenCorrelations = [];
    }
    this.emit(s, m, SOURCES.model, 'process', s.health === 'ALARM');
    this.emit(s, m, SOURCES.dataQuality, 'data_quality', s.health === 'DATA_QUALITY');
    this.emit(s, m, SOURCES.offline, 'data_quality', s.health === 'OFFLINE');
  }

  /**
   * One wafer verdict: the observation of its step's alert. Its equipment state is PRODUCTIVE, the state the wafer
   * ran in (the detector judges no step run in another): the station may well be in STANDBY by now, between wafers,
   * and that must not mute the wafer's alert.
   */
  wafer(v: WaferVerdict): void {
    const m = this.memory(v.line, v.station);
    if (m.lastWafer === null || v.end >= m.lastWafer.end) m.lastWafer = summary(v);
    if (v.verdict === 'baselining') return;
    const last = m.last;
    const lastSample: SampleVerdictSummary | null = last ? { health: last.health, score: last.score, threshold: last.threshold, ts: last.ts } : null;
    this.deps.emit({
      line: v.line,
      station: v.station,
      source: waferSource(v.step, v.recipe),
      class: 'process',
      at: this.deps.now(),
      active: v.verdict === 'fault',
      severity: v.score > WAFER_CRITICAL_RATIO * v.threshold ? 'critical' : 'warning',
      score: v.score,
      threshold: v.threshold,
      modelVersion: v.modelVersion,
      contributors: v.contributors,
      equipmentState: 'PRODUCTIVE',
      replay: v.replay === true,
      level: 'wafer',
      wafer: {
        verdictId: v.id,
        wafer: v.wafer,
        lot: v.lot ?? null,
        recipe: v.recipe ?? null,
        step: v.step,
        start: v.start,
        end: v.end,
        baseline: v.baseline,
      },
      lastWafer: summary(v),
      lastSample,
    });
  }

  /**
   * A detector's health: `detector/offline` (critical: nothing scores its stations) while it is offline, and
   * `detector/storage` (warning; critical once points are being dropped) while its storage is degraded. The station
   * is the detector's instance. Like every alert they fire only after ALERT_FOR_MS, so a blip pages nobody.
   */
  service(line: string, h: ServiceHealth): void {
    const base = {
      line, station: detectorStation(h.instance), class: 'data_quality' as const, at: this.deps.now(),
      score: null, threshold: null, modelVersion: null, contributors: [], equipmentState: null, replay: false, level: 'sample' as const,
    };
    this.deps.emit({ ...base, source: SOURCES.detectorOffline, active: h.state === 'offline', severity: 'critical' });
    // An offline detector's last word on its storage is stale: that alert stays as it was until it is back.
    if (h.state === 'offline') return;
    const dropping = h.storage?.dropping === true;
    this.deps.emit({ ...base, source: SOURCES.storage, active: h.state === 'degraded', severity: dropping ? 'critical' : 'warning' });
  }

  private emit(s: StationStatus, m: StationMemory, source: string, cls: AlertClass, active: boolean): void {
    const model = source === SOURCES.model;
    this.deps.emit({
      line: s.line,
      station: s.station,
      source,
      class: cls,
      // Wall time of arrival: a replay with original timestamps carries days-old `ts`, and the for-duration and
      // clear hold are about how long an operator has been told, not about the data.
      at: this.deps.now(),
      active,
      severity: model ? (m.severity ?? 'warning') : 'warning',
      score: s.score,
      threshold: s.threshold,
      modelVersion: s.modelVersion,
      contributors: s.contributors.length > 0 || !model ? s.contributors : m.contributors,
      equipmentState: m.equipment,
      replay: s.replay === true,
      level: 'sample',
      ...(model && m.rules.length > 0 ? { rules: m.rules } : {}),
      ...(model && m.brokenCorrelations.length > 0 ? { brokenCorrelations: m.brokenCorrelations } : {}),
      lastWafer: m.lastWafer,
    });
  }

  private memory(line: string, station: string): StationMemory {
    const key = `${line}/${station}`;
    let m = this.stations.get(key);
    if (!m) this.stations.set(key, (m = { equipment: null, severity: null, contributors: [], rules: [], brokenCorrelations: [], last: null, lastWafer: null }));
    return m;
  }
}
