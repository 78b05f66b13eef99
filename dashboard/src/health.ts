import type { Health, ServiceHealth, StationView } from '@linewatch/protocol';
import { isReplayed } from './station-list.js';

/** A tile's health as shown: the detector's word, or what the page knows better (no status yet, stale data). */
export type ShownHealth = Health | 'NO_STATUS';

export const HEALTH_LABEL: Record<ShownHealth, string> = {
  OK: 'OK',
  WARN: 'WARN',
  ALARM: 'ALARM',
  OFFLINE: 'OFFLINE',
  DATA_QUALITY: 'DATA QUALITY',
  UNMODELLED: 'UNMODELLED',
  NO_STATUS: 'NO STATUS',
};

/** Shapes beside the word, so health reads without colour vision and from across the room. */
export const HEALTH_ICON: Record<ShownHealth, string> = {
  OK: '●',
  WARN: '▲',
  ALARM: '✖',
  OFFLINE: '○',
  DATA_QUALITY: '?',
  UNMODELLED: '–',
  NO_STATUS: '…',
};

export type LineStatusWord = 'RUNNING UNMANNED' | 'ATTENTION' | 'ALARM' | 'NO DATA' | 'DISCONNECTED';

export interface LineSummary {
  word: LineStatusWord;
  healthy: number;
  total: number;
}

/** Epoch ms of the station's latest status, or null. */
export function lastUpdate(view: StationView): number | null {
  return view.status?.ts ?? view.lastSeen;
}

export function isStale(view: StationView, serverNow: number, staleAfterMs: number): boolean {
  const ts = lastUpdate(view);
  return ts === null || serverNow - ts > staleAfterMs;
}

/**
 * The one word a wall screen shows for the whole line. ALARM wins; anything else not OK (including
 * stale or missing status) asks for attention; all OK and fresh means the line runs unmanned. Replayed data on
 * the live line says nothing about the fab, so it is not healthy either, unless the line shown is the replay line.
 * An open alert (a wafer-level fault, say, on a tool whose latest snapshot is fine) also means a person is needed:
 * a critical one unacknowledged is ALARM, any other ATTENTION. So does a detector that is offline or whose storage
 * is degraded: the line may be fine, but nobody may be watching it, or its history is not being kept.
 */
export function summarizeLine(
  views: StationView[],
  serverNow: number,
  staleAfterMs: number,
  connected: boolean,
  replayLine = false,
  alerts: { open: number; critical: number } = { open: 0, critical: 0 },
  monitor: MonitorTrouble = { offline: [], degraded: [] },
): LineSummary {
  const total = views.length;
  const healthy = views.filter((v) => v.status?.health === 'OK' && !isStale(v, serverNow, staleAfterMs) && (replayLine || !isReplayed(v))).length;
  if (!connected) return { word: 'DISCONNECTED', healthy, total };
  if (total === 0) return { word: 'NO DATA', healthy, total };
  if (views.some((v) => v.status?.health === 'ALARM') || alerts.critical > 0) return { word: 'ALARM', healthy, total };
  const monitorTrouble = monitor.offline.length + monitor.degraded.length > 0;
  if (healthy < total || alerts.open > 0 || monitorTrouble) return { word: 'ATTENTION', healthy, total };
  return { word: 'RUNNING UNMANNED', healthy, total };
}

export interface MonitorTrouble {
  /** Detectors the broker lost, or that were stopped: nothing scores their stations. */
  offline: ServiceHealth[];
  /** Detectors that score, but whose writes reach the store late or not at all (see `storage`). */
  degraded: ServiceHealth[];
}

/** The detectors that need a person, from what they last reported. */
export function monitorTrouble(services: readonly ServiceHealth[]): MonitorTrouble {
  return {
    offline: services.filter((s) => s.state === 'offline'),
    degraded: services.filter((s) => s.state === 'degraded'),
  };
}
