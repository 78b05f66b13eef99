import type { Anomaly, Contributor, EquipmentState, Severity, StateMessage, StationStatus } from '@linewatch/protocol';
import type { AlertClass, Observation } from './types.js';

/** Alert sources the detector's verdicts feed: its model score, and the station's data-quality and liveness. */
export const SOURCES = { model: 'model', dataQuality: 'data_quality', offline: 'offline' } as const;

const RANK: Record<Severity, number> = { warning: 1, critical: 2 };

interface StationMemory {
  equipment: EquipmentState | null;
  /** Highest severity the detector announced (anomaly events) in the station's current ALARM. */
  severity: Severity | null;
  /** Contributors of the latest anomaly event in that ALARM, for a status that carries none. */
  contributors: Contributor[];
  last: StationStatus | null;
}

/**
 * Turns what the detector publishes (status, anomaly) and the tools' equipment state into lifecycle
 * observations, one per alert source:
 * - `model` (process): active while the station is in ALARM; its severity is the highest the detector's anomaly
 *   events announced in that ALARM (they carry it; the status does not);
 * - `data_quality` (data quality): active while the station is DATA_QUALITY;
 * - `offline` (data quality): active while the station is OFFLINE.
 * Every status gives one observation per source, active or not, so each alert sees its condition clear.
 * UNMODELLED says nothing about the process and gives none.
 */
export class ObservationFeed {
  private readonly stations = new Map<string, StationMemory>();

  constructor(private readonly deps: { emit: (o: Observation) => void; now: () => number }) {}

  state(update: { line: string; station: string; state: StateMessage }): void {
    this.memory(update.line, update.station).equipment = update.state.state;
  }

  anomaly(a: Anomaly): void {
    const m = this.memory(a.line, a.station);
    if (m.severity === null || RANK[a.severity] > RANK[m.severity]) m.severity = a.severity;
    m.contributors = a.contributors;
    // An escalation arrives as an anomaly event while the status stays ALARM: observe it at once.
    if (m.last?.health === 'ALARM') this.emit(m.last, m, SOURCES.model, 'process', true);
  }

  status(s: StationStatus): void {
    const m = this.memory(s.line, s.station);
    m.last = s;
    if (s.health === 'UNMODELLED') return;
    if (s.health !== 'ALARM') {
      m.severity = null;
      m.contributors = [];
    }
    this.emit(s, m, SOURCES.model, 'process', s.health === 'ALARM');
    this.emit(s, m, SOURCES.dataQuality, 'data_quality', s.health === 'DATA_QUALITY');
    this.emit(s, m, SOURCES.offline, 'data_quality', s.health === 'OFFLINE');
  }

  private emit(s: StationStatus, m: StationMemory, source: string, cls: AlertClass, active: boolean): void {
    this.deps.emit({
      line: s.line,
      station: s.station,
      source,
      class: cls,
      // Wall time of arrival: a replay with original timestamps carries days-old `ts`, and the for-duration and
      // clear hold are about how long an operator has been told, not about the data.
      at: this.deps.now(),
      active,
      severity: source === SOURCES.model ? (m.severity ?? 'warning') : 'warning',
      score: s.score,
      threshold: s.threshold,
      modelVersion: s.modelVersion,
      contributors: s.contributors.length > 0 || source !== SOURCES.model ? s.contributors : m.contributors,
      equipmentState: m.equipment,
      replay: s.replay === true,
    });
  }

  private memory(line: string, station: string): StationMemory {
    const key = `${line}/${station}`;
    let m = this.stations.get(key);
    if (!m) this.stations.set(key, (m = { equipment: null, severity: null, contributors: [], last: null }));
    return m;
  }
}
