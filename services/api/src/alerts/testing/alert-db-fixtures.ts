import { alertKey, type Alert, type AlertState, type AlertTransition, type LifecycleResult } from '../types.js';

/** An alert of `fab1/etch-01/model` started at `startedAt`, firing unless the patch says otherwise. */
export function alertOf(startedAt: number, patch: Partial<Alert> = {}): Alert {
  const key = { line: patch.line ?? 'fab1', station: patch.station ?? 'etch-01', source: patch.source ?? 'model' };
  return {
    ...key,
    id: `${alertKey(key)}/${startedAt}`,
    class: 'process',
    state: 'firing',
    severity: 'warning',
    startedAt,
    firingAt: startedAt + 5_000,
    resolvedAt: null,
    lastObservedAt: startedAt + 5_000,
    clearSince: null,
    flapping: false,
    muted: false,
    ack: null,
    notifiedSeverity: 'warning',
    score: 3.2,
    threshold: 1,
    modelVersion: 'etch@1',
    contributors: [{ sensor: 'rf_power', value: 1800, expected: 1500, contribution: 0.7 }],
    equipmentState: 'PRODUCTIVE',
    replay: false,
    ...patch,
  };
}

export function transitionOf(alert: Alert, from: AlertState | null, to: AlertState, at: number, reason = `${from ?? 'new'} → ${to}`): AlertTransition {
  return { alertId: alert.id, key: alertKey(alert), from, to, severity: alert.severity, at, reason };
}

/**
 * The kill -9 test's workload. Save n upserts SAVE_WIDTH long-lived alerts (lastObservedAt = n), inserts episode
 * n, and appends one transition to each with reason `save n`: a result half written shows as alerts disagreeing
 * on n, or as a save with fewer than SAVE_WIDTH + 1 transitions.
 */
export const SAVE_WIDTH = 20;

export const longLivedAlert = (k: number, save: number): Alert => alertOf(0, { source: `rule-${k}`, lastObservedAt: save });
export const episodeAlert = (save: number): Alert => alertOf(1_000_000 + save, { source: 'episode', lastObservedAt: save });

export function saveLoopResult(save: number): LifecycleResult {
  const alerts = [...Array.from({ length: SAVE_WIDTH }, (_, k) => longLivedAlert(k, save)), episodeAlert(save)];
  return {
    alerts,
    transitions: alerts.map((a) => transitionOf(a, a.source === 'episode' ? null : 'firing', 'firing', save, `save ${save}`)),
    notifications: [],
  };
}
