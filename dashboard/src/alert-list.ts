import type { AlertView, Contributor, DeliveryStatus, Severity, SubscriptionDeliveryStatus } from '@linewatch/protocol';
import { formatAge, formatNumber } from './format.js';
import { t } from './i18n.js';
import { VERDICT_LABEL, correlationText, ruleText, stepName } from './wafer-list.js';

/** The alert panel's tabs: what needs someone, what someone is on, and what is over. */
export type AlertTab = 'active' | 'acknowledged' | 'resolved';
export const ALERT_TABS: readonly AlertTab[] = ['active', 'acknowledged', 'resolved'];

/** Resolved alerts the page keeps, newest first; open ones are all kept (the server bounds them). */
export const MAX_RESOLVED = 50;

const SEVERITY_RANK: Record<Severity, number> = { critical: 2, warning: 1 };

/** Pending alerts have notified nobody yet, but they are on their way to firing: they show as active. */
export function tabOf(alert: AlertView): AlertTab {
  return alert.state === 'resolved' ? 'resolved' : alert.state === 'acknowledged' ? 'acknowledged' : 'active';
}

/** Keeps every open alert and the newest resolved ones. */
function bounded(list: AlertView[]): AlertView[] {
  const resolved = list.filter((a) => a.state === 'resolved');
  if (resolved.length <= MAX_RESOLVED) return list;
  const keep = new Set(resolved.sort(byResolution).slice(0, MAX_RESOLVED).map((a) => a.id));
  return list.filter((a) => a.state !== 'resolved' || keep.has(a.id));
}

export const alertList = {
  /** The snapshot's alerts replace what the page had: they are the server's whole picture. */
  fromSnapshot: (alerts: AlertView[]): AlertView[] => bounded([...alerts]),
  /**
   * One changed alert: it replaces its earlier view. A resolved alert stays resolved, so a late view from before
   * the resolution cannot reopen it.
   */
  upsert(list: AlertView[], alert: AlertView): AlertView[] {
    const known = list.find((a) => a.id === alert.id);
    if (known?.state === 'resolved' && alert.state !== 'resolved') return list;
    return bounded(known ? list.map((a) => (a.id === alert.id ? alert : a)) : [...list, alert]);
  },
};

function byUrgency(a: AlertView, b: AlertView): number {
  const firing = (x: AlertView) => (x.state === 'pending' ? 0 : 1);
  return SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] || firing(b) - firing(a) || b.startedAt - a.startedAt || a.id.localeCompare(b.id);
}

function byResolution(a: AlertView, b: AlertView): number {
  return (b.resolvedAt ?? 0) - (a.resolvedAt ?? 0) || a.id.localeCompare(b.id);
}

/** One tab's alerts: open ones most urgent first (critical, firing, newest); resolved ones newest first. */
export function alertsIn(list: AlertView[], tab: AlertTab): AlertView[] {
  return list.filter((a) => tabOf(a) === tab).sort(tab === 'resolved' ? byResolution : byUrgency);
}

export function tabCounts(list: AlertView[]): Record<AlertTab, number> {
  const counts: Record<AlertTab, number> = { active: 0, acknowledged: 0, resolved: 0 };
  for (const a of list) counts[tabOf(a)] += 1;
  return counts;
}

/** Top contributors as an engineer reads them: `rf_power 1620 vs 1500`; a wafer's indicators `rf_power.mean 1620 vs 1500`. */
export function contributorTexts(alert: AlertView, top = 3): string[] {
  return alert.contributors.slice(0, top).map(contributorText);
}

/** One contributor, `rf_power 1620 vs 1500` (a wafer indicator `rf_power.mean …`): alert rows and the anomaly table. */
export function contributorText(c: Contributor): string {
  return t('alerts.contributor', { sensor: `${c.sensor}${c.stat ? `.${c.stat}` : ''}`, value: formatNumber(c.value), expected: formatNumber(c.expected) });
}

/** Which verdict raised the alert: an alert stored before levels existed is a sample-wise one. */
export function alertLevel(alert: AlertView): 'sample' | 'wafer' {
  return alert.level ?? 'sample';
}

/**
 * The line under an alert's station that says what it is about beside its own evidence: for a wafer alert its wafer
 * and the station's sample-wise verdict then (`wafer W07 · lot L0001 · main etch · sample-wise ● OK 0.42 / 1`); for a
 * sample-wise alert the station's latest wafer verdict (`latest wafer W07 · main etch ✖ FAULT`).
 */
export function levelText(alert: AlertView): string {
  if (alertLevel(alert) === 'wafer') {
    const w = alert.wafer;
    const sample = alert.lastSample;
    return [
      ...(w ? [t('alerts.level.wafer', { wafer: w.wafer }), ...(w.lot ? [t('alerts.level.lot', { lot: w.lot })] : []), stepName(w.step)] : []),
      ...(sample ? [`${t('alerts.level.sample', { health: sample.health })}${sample.score === null ? '' : ` ${formatNumber(sample.score)} / ${formatNumber(sample.threshold)}`}`] : []),
    ].join(' · ');
  }
  const last = alert.lastWafer;
  return last ? t('alerts.level.latestWafer', { wafer: last.wafer, step: stepName(last.step), verdict: VERDICT_LABEL[last.verdict] }) : '';
}

/** The SPC rules that fired and the sensor pairs found decoupled: `rules WE1 rf_power ▲ · broken rf_power ⇄ …`. */
export function ruleTexts(alert: AlertView): string {
  return [
    ...(alert.rules?.length ? [t('alerts.rules', { rules: alert.rules.map(ruleText).join(', ') })] : []),
    ...(alert.brokenCorrelations?.length ? [t('alerts.broken', { pairs: alert.brokenCorrelations.map(correlationText).join(', ') })] : []),
  ].join(' · ');
}

/** How long it has been, in the words of its tab. `serverNow` is the server's clock as the page estimates it. */
export function alertTiming(alert: AlertView, serverNow: number): string {
  const since = alert.firingAt ?? alert.startedAt;
  if (alert.state === 'resolved') {
    const end = alert.resolvedAt ?? since;
    return t('alerts.resolvedAgo', { ago: formatAge(serverNow - end), lasted: formatAge(end - alert.startedAt) });
  }
  if (alert.state === 'pending') return t('alerts.pendingFor', { age: formatAge(serverNow - alert.startedAt) });
  return t('alerts.since', { age: formatAge(serverNow - since) });
}

/** Who acknowledged it, when, and what they said. */
export function ackText(alert: AlertView, serverNow: number): string {
  const ack = alert.ack;
  if (!ack) return '';
  const ago = formatAge(serverNow - ack.at);
  return ack.comment ? t('alerts.ackByComment', { by: ack.by, ago, comment: ack.comment }) : t('alerts.ackBy', { by: ack.by, ago });
}

export interface DeliveryLine {
  text: string;
  /** `dead`: some delivery was given up on (red). `retrying`: a receiver's last attempt failed. */
  kind: 'unknown' | 'none' | 'ok' | 'retrying' | 'dead';
  details: string[];
}

function count(n: number, capped: boolean, limit: number): string {
  return capped && n >= limit ? `${limit}+` : String(n);
}

function subscriptionLine(s: SubscriptionDeliveryStatus, limit: number, serverNow: number): string {
  const counts = t('delivery.counts', { pending: count(s.pending, s.capped, limit), dead: count(s.dead, s.capped, limit) });
  if (s.lastAttemptAt === null) return t('delivery.notTried', { origin: s.origin, counts });
  const last = s.lastOk ? t('delivery.delivered', { status: s.lastStatus ?? 'ok' }) : t('delivery.failed', { error: s.lastError ?? `HTTP ${s.lastStatus ?? '?'}` });
  return t('delivery.last', { origin: s.origin, counts, last, ago: formatAge(serverNow - s.lastAttemptAt) });
}

/** The webhook status line, `webhooks: 3 delivered · 1 pending · 0 dead`, and a line per subscription. */
export function deliveryLine(status: DeliveryStatus | null, serverNow: number): DeliveryLine {
  if (!status) return { text: t('delivery.unknown'), kind: 'unknown', details: [] };
  const details = status.subscriptions.map((s) => subscriptionLine(s, status.countLimit, serverNow));
  const total = status.pending + status.delivered + status.dead;
  if (status.subscriptions.length === 0 && total === 0) return { text: t('delivery.none'), kind: 'none', details };
  const text = t('delivery.summary', { delivered: status.delivered, pending: status.pending, dead: status.dead });
  const retrying = status.subscriptions.some((s) => s.lastOk === false && s.pending > 0);
  return { text, kind: status.dead > 0 ? 'dead' : retrying ? 'retrying' : 'ok', details };
}
