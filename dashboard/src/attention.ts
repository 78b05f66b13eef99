import type { AlertView } from '@linewatch/protocol';

/** When a person last had to act on the line, as the header says it. */
export type LastCall = { kind: 'now'; firing: number } | { kind: 'onIt'; since: number } | { kind: 'since'; at: number } | { kind: 'never' };

/** Alerts that call a person: the live line's own (not replayed), fired, and not muted by the tool's state. */
function calls(alerts: readonly AlertView[], line: string | null): AlertView[] {
  return alerts.filter((a) => a.line === line && !a.replay && !a.muted && a.firingAt !== null);
}

/**
 * The time since a person last had to act: now while an alert fires unacknowledged; "on it" while every open alert
 * is acknowledged; otherwise since the latest firing, acknowledgement or resolution the page knows of (the API
 * sends every open alert and the latest resolved ones); never when there is none.
 */
export function lastCall(alerts: readonly AlertView[], line: string | null): LastCall {
  const relevant = calls(alerts, line);
  const firing = relevant.filter((a) => a.state === 'firing').length;
  if (firing > 0) return { kind: 'now', firing };
  const acked = relevant.filter((a) => a.state === 'acknowledged');
  if (acked.length > 0) return { kind: 'onIt', since: Math.min(...acked.map((a) => a.ack?.at ?? a.firingAt ?? a.startedAt)) };
  let at = -Infinity;
  for (const a of relevant) at = Math.max(at, a.firingAt ?? -Infinity, a.ack?.at ?? -Infinity, a.resolvedAt ?? -Infinity);
  return Number.isFinite(at) ? { kind: 'since', at } : { kind: 'never' };
}

/** Open alerts of the live line (firing or acknowledged, not muted), how many nobody has acknowledged, and the critical ones firing. */
export function openAlerts(alerts: readonly AlertView[], line: string | null): { open: number; unacked: number; critical: number } {
  // A muted alert (the tool is in PM or down) is tracked, but calls nobody.
  const open = alerts.filter((a) => a.line === line && !a.replay && !a.muted && (a.state === 'firing' || a.state === 'acknowledged'));
  return {
    open: open.length,
    unacked: open.filter((a) => a.state === 'firing').length,
    critical: open.filter((a) => a.state === 'firing' && a.severity === 'critical').length,
  };
}
