import type { AlertView, AlertViewClass, AlertViewState, DeliveryStatus, SubscriptionDeliveryStatus } from '@linewatch/protocol';
import type { Delivery, Outbox } from '../webhooks/outbox.js';
import type { AlertDb } from './alert-db.js';
import type { Alert, AlertClass, AlertState, Subscription } from './types.js';

/**
 * What the page sees of alerting: alerts as the protocol's `AlertView`, and the webhook outbox as a
 * `DeliveryStatus`. Both are built field by field, so a field added to the stored types later (a secret, an
 * internal clock) stays private until someone decides the page may show it.
 */

// The protocol spells the lifecycle's unions out for the page; they must stay the same sets.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameStates: Same<AlertState, AlertViewState> = true;
const sameClasses: Same<AlertClass, AlertViewClass> = true;
void sameStates;
void sameClasses;

/** Open alerts a snapshot carries at most: far more than a wall screen can show, few enough to send on connect. */
export const SNAPSHOT_OPEN_ALERTS = 200;
/** Resolved alerts a snapshot carries: the latest, so a page that reconnects still shows what just ended. */
export const SNAPSHOT_RESOLVED_ALERTS = 50;
/** Per-subscription pending and dead counts stop here: "100+ pending" tells a person as much as 10 000 would. */
export const DELIVERY_COUNT_LIMIT = 100;
/** A subscription's latest attempt is looked for among this many of its newest deliveries. */
const RECENT_DELIVERIES = 20;

export function toAlertView(a: Alert): AlertView {
  return {
    id: a.id,
    line: a.line,
    station: a.station,
    source: a.source,
    class: a.class,
    state: a.state,
    severity: a.severity,
    startedAt: a.startedAt,
    firingAt: a.firingAt,
    resolvedAt: a.resolvedAt,
    flapping: a.flapping,
    muted: a.muted,
    ack: a.ack ? { by: a.ack.by, at: a.ack.at, comment: a.ack.comment } : null,
    score: a.score,
    threshold: a.threshold,
    modelVersion: a.modelVersion,
    contributors: a.contributors.map((c) => ({ sensor: c.sensor, value: c.value, expected: c.expected, contribution: c.contribution, ...(c.stat ? { stat: c.stat } : {}) })),
    equipmentState: a.equipmentState,
    replay: a.replay,
    level: a.level ?? 'sample',
    wafer: a.wafer ? { ...a.wafer } : null,
    rules: (a.rules ?? []).map((r) => ({ rule: r.rule, sensor: r.sensor, side: r.side, value: r.value, center: r.center, sigma: r.sigma })),
    brokenCorrelations: (a.brokenCorrelations ?? []).map((b) => ({ sensors: [b.sensors[0], b.sensors[1]], correlation: b.correlation, z: [b.z[0], b.z[1]] })),
    lastWafer: a.lastWafer ? { ...a.lastWafer } : null,
    lastSample: a.lastSample ? { ...a.lastSample } : null,
  };
}

/** What a (re)connecting page starts from: every open alert, newest first, then the latest resolved ones. */
export function snapshotAlerts(db: Pick<AlertDb, 'alerts'>): AlertView[] {
  const open = db.alerts({ states: ['pending', 'firing', 'acknowledged'], limit: SNAPSHOT_OPEN_ALERTS });
  const resolved = db.alerts({ states: ['resolved'], limit: SNAPSHOT_RESOLVED_ALERTS });
  return [...open, ...resolved].map(toAlertView);
}

/** Scheme, host and port: a webhook URL's path or query may carry the receiver's token. */
export function urlOrigin(url: string): string {
  try {
    const origin = new URL(url).origin;
    return origin === 'null' ? 'unknown origin' : origin;
  } catch {
    return 'unknown origin';
  }
}

type OutboxReader = Pick<Outbox, 'counts' | 'deliveries'>;

function subscriptionStatus(outbox: OutboxReader, s: Subscription, countLimit: number): SubscriptionDeliveryStatus {
  // One row past the limit tells "exactly the limit" from "more than it".
  const count = (status: Delivery['status']) => outbox.deliveries({ subscriptionId: s.id, status, limit: countLimit + 1 }).length;
  const pending = count('pending');
  const dead = count('dead');
  let last: Delivery | undefined;
  for (const d of outbox.deliveries({ subscriptionId: s.id, limit: RECENT_DELIVERIES })) {
    if (d.lastAttemptAt !== null && (last?.lastAttemptAt ?? -Infinity) < d.lastAttemptAt) last = d;
  }
  return {
    id: s.id,
    origin: urlOrigin(s.url),
    pending: Math.min(pending, countLimit),
    dead: Math.min(dead, countLimit),
    capped: pending > countLimit || dead > countLimit,
    lastAttemptAt: last?.lastAttemptAt ?? null,
    // A delivery is marked delivered by the attempt that succeeded, so its last attempt is that one.
    lastOk: last ? last.status === 'delivered' : null,
    lastStatus: last?.lastStatus ?? null,
    lastError: last?.lastError ?? null,
  };
}

/**
 * The outbox for the page: exact totals over every delivery, and per subscription its backlog, dead letters and
 * latest attempt. Deliveries of deleted subscriptions count in the totals (their dead letters stay inspectable).
 */
export function deliveryStatus(outbox: OutboxReader, subscriptions: Subscription[], at: number, countLimit = DELIVERY_COUNT_LIMIT): DeliveryStatus {
  const totals = outbox.counts();
  return {
    at,
    pending: totals.pending,
    delivered: totals.delivered,
    dead: totals.dead,
    countLimit,
    subscriptions: subscriptions.map((s) => subscriptionStatus(outbox, s, countLimit)),
  };
}
