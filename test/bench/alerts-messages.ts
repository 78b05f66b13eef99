import type { Anomaly, Contributor, StationStatus } from '@linewatch/protocol';

/** What the detector publishes when a station goes into ALARM and back, shaped like its real messages. */

const CONTRIBUTORS: Contributor[] = [
  { sensor: 'rf_power', value: 1620, expected: 1500, contribution: 0.71 },
  { sensor: 'chamber_pressure', value: 38.2, expected: 35.1, contribution: 0.2 },
];

/** Station ids sort in episode order and stay valid ids (A-Z a-z 0-9 _ . -). */
export function benchStation(i: number): string {
  return `etch-${String(i).padStart(5, '0')}`;
}

export function alarmStatus(line: string, station: string, ts: number): StationStatus {
  return { line, station, health: 'ALARM', since: ts, ts, score: 3.2, threshold: 1, modelVersion: 'bench@1', contributors: CONTRIBUTORS };
}

/** Healthy again: the score is under threshold × the clear ratio, so it counts as clear. */
export function okStatus(line: string, station: string, ts: number): StationStatus {
  return { line, station, health: 'OK', since: ts, ts, score: 0.2, threshold: 1, modelVersion: 'bench@1', contributors: [] };
}

export function anomalyEvent(line: string, station: string, ts: number): Anomaly {
  return {
    id: `${line}/${station}/${ts}`, line, station, ts, seq: 1, score: 3.2, threshold: 1, t2: 40.1, spe: 2.2,
    modelVersion: 'bench@1', severity: 'critical', contributors: CONTRIBUTORS,
  };
}
