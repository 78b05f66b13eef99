import type { AlertMark, AlertView, Anomaly, StateSample, StationHistory, StateMessage } from '@linewatch/protocol';
import { stateSpans, type AlertLine, type AnomalyMark, type ChartMarks } from './chart-marks.js';

/** Anomalies of one station: the history's and the live feed's, one per id, newest first. */
export function mergeAnomalies(history: readonly Anomaly[], live: readonly Anomaly[], station: string): Anomaly[] {
  const byId = new Map<string, Anomaly>();
  for (const a of history) byId.set(a.id, a);
  for (const a of live) if (a.station === station) byId.set(a.id, a);
  return [...byId.values()].sort((a, b) => b.ts - a.ts);
}

/** An alert the page knows, as the transitions it went through so far. */
export function alertTransitions(alert: AlertView): AlertLine[] {
  const lines: AlertLine[] = [];
  if (alert.firingAt !== null) lines.push({ at: alert.firingAt, to: 'firing' });
  if (alert.ack) lines.push({ at: alert.ack.at, to: 'acknowledged' });
  if (alert.resolvedAt !== null) lines.push({ at: alert.resolvedAt, to: 'resolved' });
  return lines;
}

/**
 * Alert lines of one station: the history's transitions (pending ones left out: they are not yet alerts) and
 * those of the alerts the page holds, one per (alert, transition).
 */
export function mergeAlertLines(history: readonly AlertMark[], live: readonly AlertView[], line: string, station: string): AlertLine[] {
  const seen = new Map<string, AlertLine>();
  for (const m of history) if (m.to !== 'pending') seen.set(`${m.alertId}|${m.to}|${m.at}`, { at: m.at, to: m.to });
  for (const alert of live) {
    if (alert.line !== line || alert.station !== station) continue;
    for (const l of alertTransitions(alert)) seen.set(`${alert.id}|${l.to}|${l.at}`, l);
  }
  return [...seen.values()].sort((a, b) => a.at - b.at);
}

/** State changes from the history plus the station's current state, oldest first, one per time. */
export function mergeStates(history: readonly StateSample[], current: StateMessage | null): StateSample[] {
  const byTs = new Map<number, StateSample>();
  for (const s of history) byTs.set(s.ts, s);
  if (current) byTs.set(current.since, { ts: current.since, state: current.state });
  return [...byTs.values()].sort((a, b) => a.ts - b.ts);
}

export interface MarkInputs {
  history: StationHistory | null;
  liveAnomalies: readonly Anomaly[];
  alerts: readonly AlertView[];
  state: StateMessage | null;
  line: string;
  station: string;
  end: number;
  chosen: string | null;
}

/** Everything the charts mark, from the history and what the live feed added since. */
export function chartMarks(i: MarkInputs): { marks: ChartMarks; anomalies: Anomaly[] } {
  const anomalies = mergeAnomalies(i.history?.anomalies ?? [], i.liveAnomalies, i.station);
  const marks: ChartMarks = {
    anomalies: anomalies.map((a): AnomalyMark => ({ id: a.id, ts: a.ts, critical: a.severity === 'critical', wafer: a.level === 'wafer' })),
    alerts: mergeAlertLines(i.history?.alerts ?? [], i.alerts, i.line, i.station),
    states: stateSpans(mergeStates(i.history?.states ?? [], i.state), i.end),
    chosen: i.chosen,
  };
  return { marks, anomalies };
}
