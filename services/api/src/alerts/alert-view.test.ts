import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { nthNotification, subscription, T0 } from '../webhooks/fixtures.test-support.js';
import { Outbox } from '../webhooks/outbox.js';
import { AlertDb, openAlertingDatabase } from './alert-db.js';
import { DELIVERY_COUNT_LIMIT, SNAPSHOT_OPEN_ALERTS, SNAPSHOT_RESOLVED_ALERTS, deliveryStatus, snapshotAlerts, toAlertView, urlOrigin } from './alert-view.js';
import { alertOf } from './testing/alert-db-fixtures.js';
import type { Alert } from './types.js';

const VIEW_KEYS = [
  'id', 'line', 'station', 'source', 'class', 'state', 'severity', 'startedAt', 'firingAt', 'resolvedAt', 'flapping', 'muted', 'ack',
  'score', 'threshold', 'modelVersion', 'contributors', 'equipmentState', 'replay',
  'level', 'wafer', 'rules', 'brokenCorrelations', 'lastWafer', 'lastSample',
].sort();

describe('toAlertView', () => {
  it('carries what the page shows and nothing of the lifecycle’s own bookkeeping', () => {
    const alert = alertOf(T0, {
      state: 'acknowledged',
      severity: 'critical',
      ack: { by: 'ana', at: T0 + 9_000, comment: 'checking the RF match' },
      clearSince: T0 + 10_000,
      notifiedSeverity: 'critical',
      replay: true,
      class: 'data_quality',
    });
    const view = toAlertView(alert);
    expect(Object.keys(view).sort()).toEqual(VIEW_KEYS);
    expect(view).toEqual({
      id: alert.id, line: 'fab1', station: 'etch-01', source: 'model', class: 'data_quality', state: 'acknowledged', severity: 'critical',
      startedAt: T0, firingAt: T0 + 5_000, resolvedAt: null, flapping: false, muted: false,
      ack: { by: 'ana', at: T0 + 9_000, comment: 'checking the RF match' },
      score: 3.2, threshold: 1, modelVersion: 'etch@1',
      contributors: [{ sensor: 'rf_power', value: 1800, expected: 1500, contribution: 0.7 }],
      equipmentState: 'PRODUCTIVE', replay: true,
      // A stored alert from before wafer-level verdicts reads as a sample-level one with no extra evidence.
      level: 'sample', wafer: null, rules: [], brokenCorrelations: [], lastWafer: null, lastSample: null,
    });
  });

  it('carries a wafer alert’s wafer, its indicators’ stats, and both verdicts side by side', () => {
    const wafer = { verdictId: 'fab1/etch-01/W07/main_etch/1', wafer: 'W07', lot: 'L01', recipe: null, step: 'main_etch', start: 1, end: 2, baseline: 'b1' };
    const alert = alertOf(T0, {
      source: 'wafer/main_etch',
      level: 'wafer',
      wafer,
      contributors: [{ sensor: 'rf_power', value: 1700, expected: 1500, contribution: 0.8, stat: 'mean' }],
      lastWafer: { wafer: 'W07', step: 'main_etch', end: 2, verdict: 'fault', score: 3, threshold: 1 },
      lastSample: { health: 'OK', score: 0.4, threshold: 1, ts: 3 },
      rules: [{ rule: 'WE1', sensor: 'rf_power', side: 'high', value: 1700, center: 1500, sigma: 40 }],
      brokenCorrelations: [{ sensors: ['rf_power', 'chamber_pressure'], correlation: 0.9, z: [3, 0.1] }],
    });
    const view = toAlertView(alert);
    expect(view).toMatchObject({ level: 'wafer', wafer, lastSample: { health: 'OK' }, lastWafer: { verdict: 'fault' } });
    expect(view.contributors).toEqual([{ sensor: 'rf_power', value: 1700, expected: 1500, contribution: 0.8, stat: 'mean' }]);
    expect(view.rules?.[0]?.rule).toBe('WE1');
    expect(view.brokenCorrelations?.[0]?.sensors).toEqual(['rf_power', 'chamber_pressure']);
    (alert.wafer as { wafer: string }).wafer = 'changed';
    expect(view.wafer?.wafer).toBe('W07');
  });

  it('copies: changing the alert afterwards does not change the view already sent', () => {
    const alert = alertOf(T0, { ack: { by: 'ana', at: T0, comment: '' } });
    const view = toAlertView(alert);
    (alert.contributors[0] as { value: number }).value = -1;
    (alert.ack as { by: string }).by = 'bob';
    expect(view.contributors[0]?.value).toBe(1800);
    expect(view.ack?.by).toBe('ana');
  });

  it('leaves out fields a stored alert may gain later', () => {
    const alert = { ...alertOf(T0), internalNote: 'not for the page' } as Alert;
    expect(Object.keys(toAlertView(alert)).sort()).toEqual(VIEW_KEYS);
  });
});

describe('urlOrigin', () => {
  it('keeps scheme, host and port, never a path, query or credentials', () => {
    expect(urlOrigin('https://user:pw@mes.fab.example:8443/hooks/t0ken?key=abc')).toBe('https://mes.fab.example:8443');
    expect(urlOrigin('http://127.0.0.1:9/hook')).toBe('http://127.0.0.1:9');
    expect(urlOrigin('not a url')).toBe('unknown origin');
  });
});

describe('with the alerting database', () => {
  let db: Database.Database;
  let alerts: AlertDb;
  let outbox: Outbox;

  beforeEach(() => {
    db = openAlertingDatabase(':memory:');
    alerts = new AlertDb(db);
    outbox = new Outbox(db);
  });
  afterEach(() => db.close());

  it('a snapshot holds every open alert (bounded) and then the latest resolved ones', () => {
    const open = Array.from({ length: SNAPSHOT_OPEN_ALERTS + 5 }, (_, i) => alertOf(T0 + i, { source: `open-${i}` }));
    const resolved = Array.from({ length: SNAPSHOT_RESOLVED_ALERTS + 5 }, (_, i) =>
      alertOf(T0 - 1_000_000 + i, { source: `done-${i}`, state: 'resolved', resolvedAt: T0 + i }),
    );
    const pending = alertOf(T0 + 10_000, { source: 'pending', state: 'pending', firingAt: null });
    const acked = alertOf(T0 + 10_001, { source: 'acked', state: 'acknowledged', ack: { by: 'ana', at: T0, comment: '' } });
    alerts.save({ alerts: [...open, ...resolved, pending, acked], transitions: [], notifications: [] });

    const views = snapshotAlerts(alerts);
    expect(views).toHaveLength(SNAPSHOT_OPEN_ALERTS + SNAPSHOT_RESOLVED_ALERTS);
    const openViews = views.slice(0, SNAPSHOT_OPEN_ALERTS);
    expect(openViews.every((v) => v.state !== 'resolved')).toBe(true);
    // Newest first: the pending and acknowledged ones started last, so they are there.
    expect(openViews.slice(0, 2).map((v) => v.source)).toEqual(['acked', 'pending']);
    const resolvedViews = views.slice(SNAPSHOT_OPEN_ALERTS);
    expect(resolvedViews.every((v) => v.state === 'resolved')).toBe(true);
    expect(resolvedViews[0]?.source).toBe(`done-${SNAPSHOT_RESOLVED_ALERTS + 4}`);
    expect(Object.keys(views[0] ?? {}).sort()).toEqual(VIEW_KEYS);
  });

  it('delivery status: exact totals, and per subscription its backlog, dead letters and latest attempt, never its URL path', () => {
    const mes = subscription({ id: 'sub-mes', url: 'https://mes.fab.example/hooks/secret-path?token=abc' });
    const chat = subscription({ id: 'sub-chat', url: 'http://127.0.0.1:9/hook' });
    const idle = subscription({ id: 'sub-idle', url: 'http://10.0.0.5:8080/x' });
    for (let i = 0; i < 3; i++) for (const s of [mes, chat]) outbox.enqueue(nthNotification(i), s, `{"i":${i}}`, T0);
    const [d0, d1] = outbox.deliveries({ subscriptionId: mes.id }).reverse();
    outbox.recordAttempt(d0?.id ?? '', { ok: true, status: 204, error: null, at: T0 + 100, nextAttemptAt: null });
    outbox.recordAttempt(d1?.id ?? '', { ok: false, status: 503, error: 'HTTP 503', at: T0 + 200, nextAttemptAt: T0 + 5_000 });
    const [c0] = outbox.deliveries({ subscriptionId: chat.id }).reverse();
    outbox.recordAttempt(c0?.id ?? '', { ok: false, status: null, error: 'network error ECONNREFUSED', at: T0 + 300, nextAttemptAt: null });

    const status = deliveryStatus(outbox, [mes, chat, idle], T0 + 1_000);
    expect(status).toMatchObject({ at: T0 + 1_000, pending: 4, delivered: 1, dead: 1, countLimit: DELIVERY_COUNT_LIMIT });
    expect(status.subscriptions).toEqual([
      { id: 'sub-mes', origin: 'https://mes.fab.example', pending: 2, dead: 0, capped: false, lastAttemptAt: T0 + 200, lastOk: false, lastStatus: 503, lastError: 'HTTP 503' },
      { id: 'sub-chat', origin: 'http://127.0.0.1:9', pending: 2, dead: 1, capped: false, lastAttemptAt: T0 + 300, lastOk: false, lastStatus: null, lastError: 'network error ECONNREFUSED' },
      { id: 'sub-idle', origin: 'http://10.0.0.5:8080', pending: 0, dead: 0, capped: false, lastAttemptAt: null, lastOk: null, lastStatus: null, lastError: null },
    ]);
    expect(JSON.stringify(status)).not.toMatch(/secret-path|token=abc|receiver-api-key|whsec_/);

    outbox.recordAttempt(d1?.id ?? '', { ok: true, status: 200, error: null, at: T0 + 400, nextAttemptAt: null });
    expect(deliveryStatus(outbox, [mes], T0).subscriptions[0]).toMatchObject({ pending: 1, lastAttemptAt: T0 + 400, lastOk: true, lastStatus: 200, lastError: null });
  });

  it('per-subscription counts stop at the limit and say so; the totals stay exact', () => {
    const mes = subscription({ id: 'sub-mes' });
    for (let i = 0; i < 4; i++) outbox.enqueue(nthNotification(i), mes, '{}', T0);
    expect(deliveryStatus(outbox, [mes], T0, 4).subscriptions[0]).toMatchObject({ pending: 4, capped: false });
    outbox.enqueue(nthNotification(4), mes, '{}', T0);
    const status = deliveryStatus(outbox, [mes], T0, 4);
    expect(status.pending).toBe(5);
    expect(status.subscriptions[0]).toMatchObject({ pending: 4, capped: true });
  });
});
