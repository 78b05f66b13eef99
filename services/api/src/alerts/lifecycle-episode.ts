import type { Severity } from '@linewatch/protocol';
import { SEVERITY_RANK } from './lifecycle-policy.js';
import type { ResultBuilder } from './lifecycle-result.js';
import type { Acknowledgement, Alert } from './types.js';

/*
 * What can happen to one episode, each step recorded as a transition. The engine decides when; these decide what,
 * and who is told. Every step that may owe the receivers something ends in `catchUp`, the one place that sends
 * `firing` and `escalated`, so no path can send one twice.
 */

/**
 * Tell the receivers what they have not been told yet, if they may be told now: `firing` once per episode, then
 * `escalated` when the severity rose above what they heard. Nothing while muted or flapping (the alert says so);
 * nothing for an acknowledged alert that was never announced, because a person already owns it. What was held back
 * goes out when the hold ends, at the current severity, so a receiver never misses that an alert became critical.
 */
export function catchUp(alert: Alert, at: number, out: ResultBuilder): void {
  if (alert.state !== 'firing' || alert.muted || alert.flapping) return;
  const told = alert.notifiedSeverity ?? null;
  if (told !== null && SEVERITY_RANK[told] >= SEVERITY_RANK[alert.severity]) return;
  alert.notifiedSeverity = alert.severity;
  out.notify(alert, told === null ? 'firing' : 'escalated', at);
}

export function fire(alert: Alert, at: number, reason: string, out: ResultBuilder): void {
  alert.state = 'firing';
  alert.firingAt = at;
  out.transition(alert, 'pending', at, reason);
  catchUp(alert, at, out);
}

/**
 * Raise the severity; it never drops within an episode. An acknowledgement was given for the lower severity, so
 * the alert goes back to firing and must be acknowledged again; the history keeps the old acknowledgement.
 */
export function escalate(alert: Alert, severity: Severity, at: number, out: ResultBuilder): void {
  const from = alert.state;
  let reason = `escalated to ${severity}`;
  if (alert.ack !== null) reason += `; acknowledgement by ${alert.ack.by} at ${alert.ack.at} cleared`;
  alert.severity = severity;
  if (alert.state === 'acknowledged') alert.state = 'firing';
  alert.ack = null;
  out.transition(alert, from, at, reason);
  catchUp(alert, at, out);
}

export function acknowledge(alert: Alert, ack: Acknowledgement, at: number, out: ResultBuilder): void {
  alert.state = 'acknowledged';
  alert.ack = { ...ack };
  const comment = ack.comment === '' ? '' : `: ${ack.comment}`;
  out.transition(alert, 'firing', at, `acknowledged by ${ack.by}${comment}`);
}

/**
 * Close the episode. Whoever heard `firing` hears `resolved`, muted or flapping or not: a receiver's ticket must
 * never stay open forever. An episode that never announced itself resolves silently, its transition says why.
 */
export function resolve(alert: Alert, at: number, reason: string, out: ResultBuilder): void {
  const from = alert.state;
  alert.state = 'resolved';
  alert.resolvedAt = at;
  out.transition(alert, from, at, reason);
  if ((alert.notifiedSeverity ?? null) !== null) out.notify(alert, 'resolved', at);
}

/** Hold back notifications, for the equipment-state reason given; the alert is still tracked. */
export function mute(alert: Alert, reason: string, at: number, out: ResultBuilder): void {
  alert.muted = true;
  out.transition(alert, alert.state, at, `muted: ${reason}`);
}

/** Stop holding back, and send what was held back. */
export function unmute(alert: Alert, reason: string, at: number, out: ResultBuilder): void {
  alert.muted = false;
  out.transition(alert, alert.state, at, `unmuted: ${reason}`);
  catchUp(alert, at, out);
}

export function stopFlapping(alert: Alert, at: number, reason: string, out: ResultBuilder): void {
  alert.flapping = false;
  out.transition(alert, alert.state, at, reason);
  catchUp(alert, at, out);
}
