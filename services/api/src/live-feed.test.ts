import type Database from 'better-sqlite3';
import type { AlertView, DeliveryStatus } from '@linewatch/protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AlertDb, SubscriptionDb, openAlertingDatabase } from './alerts/alert-db.js';
import { alertOf } from './alerts/testing/alert-db-fixtures.js';
import type { Alert } from './alerts/types.js';
import { capturedLogger, nthNotification, T0 } from './webhooks/fixtures.test-support.js';
import { Outbox } from './webhooks/outbox.js';
import { AlertFeed, type AlertSource } from './live-feed.js';

describe('AlertFeed', () => {
  let db: Database.Database;
  let source: AlertSource;
  let tell: (alert: Alert) => void;
  let alerts: AlertView[];
  let deliveries: DeliveryStatus[];
  let watched: boolean;
  let feed: AlertFeed;
  let log: ReturnType<typeof capturedLogger>;

  beforeEach(() => {
    vi.useFakeTimers({ now: T0 });
    db = openAlertingDatabase(':memory:');
    const listeners: ((alert: Alert) => void)[] = [];
    source = {
      onAlert: (l) => {
        listeners.push(l);
        return () => listeners.splice(listeners.indexOf(l), 1);
      },
      alertDb: new AlertDb(db), deliveries: new Outbox(db), subscriptionDb: new SubscriptionDb(db) };
    tell = (alert) => listeners.forEach((l) => l(alert));
    alerts = [];
    deliveries = [];
    watched = true;
    log = capturedLogger();
    feed = new AlertFeed({ source, emitAlert: (a) => alerts.push(a), emitDeliveries: (d) => deliveries.push(d), watched: () => watched, logger: log.logger });
    feed.start();
  });
  afterEach(() => {
    feed.stop();
    if (db.open) db.close();
    vi.useRealTimers();
  });

  it('sends news at once, new evidence at most once a second per alert ending with the latest, and no repeats', () => {
    const a = alertOf(T0, { state: 'pending', firingAt: null });
    const other = alertOf(T0, { source: 'offline', class: 'data_quality', state: 'pending', firingAt: null });
    tell(a);
    tell(other);
    tell({ ...a, lastObservedAt: T0 + 1 }); // the lifecycle reports every observation; this one says nothing new
    vi.advanceTimersByTime(1_000);
    expect(alerts.map((v) => [v.source, v.state])).toEqual([['model', 'pending'], ['offline', 'pending']]);

    tell({ ...a, score: 3.3 }); // a second after the last one went out: at once
    for (const score of [3.4, 3.5]) tell({ ...a, score });
    expect(alerts).toHaveLength(3);
    vi.advanceTimersByTime(1_000);
    expect(alerts.map((v) => v.score)).toEqual([3.2, 3.2, 3.3, 3.5]);

    tell({ ...a, score: 3.6 });
    tell({ ...a, score: 3.7, state: 'firing', firingAt: T0 + 5_000 });
    tell({ ...a, score: 3.7, state: 'firing', firingAt: T0 + 5_000, ack: null, flapping: true });
    expect(alerts.slice(4).map((v) => [v.state, v.score, v.flapping])).toEqual([['firing', 3.7, false], ['firing', 3.7, true]]);
    vi.advanceTimersByTime(5_000);
    expect(alerts).toHaveLength(6);
  });

  it('sends an acknowledgement and a resolution at once, and forgets a resolved alert', () => {
    const a = alertOf(T0);
    tell(a);
    tell({ ...a, score: 5 });
    tell({ ...a, score: 5, state: 'acknowledged', ack: { by: 'ana', at: T0 + 10, comment: 'on it' } });
    tell({ ...a, score: 5, state: 'resolved', resolvedAt: T0 + 20, ack: { by: 'ana', at: T0 + 10, comment: 'on it' } });
    expect(alerts.map((v) => [v.state, v.score, v.ack?.comment ?? null])).toEqual([
      ['firing', 3.2, null],
      ['acknowledged', 5, 'on it'],
      ['resolved', 5, 'on it'],
    ]);
    vi.advanceTimersByTime(5_000);
    expect(alerts).toHaveLength(3);
  });

  it('stops listening when stopped', () => {
    feed.stop();
    tell(alertOf(T0));
    vi.advanceTimersByTime(5_000);
    expect(alerts).toEqual([]);
    expect(deliveries).toEqual([]);
  });

  it('a snapshot carries the open alerts and the latest resolved ones as views', () => {
    const open = alertOf(T0);
    const done = alertOf(T0 - 60_000, { source: 'offline', state: 'resolved', resolvedAt: T0 });
    source.alertDb.save({ alerts: [open, done], transitions: [], notifications: [] });
    expect(feed.alerts().map((v) => [v.id, v.state])).toEqual([[open.id, 'firing'], [done.id, 'resolved']]);
    expect(feed.alerts()[0]).not.toHaveProperty('lastObservedAt');
  });

  it('sends the outbox summary when it changes, at most once a second, and only while someone watches', () => {
    watched = false;
    const s = source.subscriptionDb.create({ url: 'https://mes.fab.example/hook?token=abc' }, T0);
    source.deliveries.enqueue(nthNotification(0), s, '{}', T0);
    vi.advanceTimersByTime(3_000);
    expect(deliveries).toEqual([]);

    watched = true;
    vi.advanceTimersByTime(1_000);
    expect(deliveries.map((d) => [d.pending, d.delivered, d.subscriptions[0]?.origin])).toEqual([[1, 0, 'https://mes.fab.example']]);
    vi.advanceTimersByTime(3_000);
    expect(deliveries).toHaveLength(1);

    const [d] = source.deliveries.deliveries({ subscriptionId: s.id });
    source.deliveries.recordAttempt(d?.id ?? '', { ok: true, status: 204, error: null, at: T0 + 4_500, nextAttemptAt: null });
    source.deliveries.enqueue(nthNotification(1), s, '{}', T0);
    expect(deliveries).toHaveLength(1);
    vi.advanceTimersByTime(1_000);
    expect(deliveries.map((x) => [x.pending, x.delivered, x.subscriptions[0]?.lastStatus])).toEqual([[1, 0, null], [1, 1, 204]]);
    expect(feed.deliveries()).toMatchObject({ pending: 1, delivered: 1, dead: 0 });
  });

  it('says once, not every second, when the outbox cannot be read', () => {
    db.close();
    vi.advanceTimersByTime(5_000);
    expect(deliveries).toEqual([]);
    expect(log.lines.filter((l) => l.includes('cannot read the webhook outbox'))).toHaveLength(1);
  });
});
