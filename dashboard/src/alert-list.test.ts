import { describe, expect, it } from 'vitest';
import type { AlertView, DeliveryStatus, SubscriptionDeliveryStatus } from '@linewatch/protocol';
import { rememberBy, rememberedBy } from './alert-ack.js';
import { MAX_RESOLVED, ackText, alertList, alertTiming, alertsIn, contributorTexts, deliveryLine, tabCounts, tabOf } from './alert-list.js';
import { initialState, reduce } from './line-store.js';
import { inKorean } from './testing/in-korean.js';

const T0 = 1_764_396_000_000;

function alert(patch: Partial<AlertView> = {}): AlertView {
  const source = patch.source ?? 'model';
  const startedAt = patch.startedAt ?? T0;
  return {
    id: `fab1/etch-01/${source}/${startedAt}`,
    line: 'fab1',
    station: 'etch-01',
    source,
    class: 'process',
    state: 'firing',
    severity: 'warning',
    startedAt,
    firingAt: startedAt + 30_000,
    resolvedAt: null,
    flapping: false,
    muted: false,
    ack: null,
    score: 3.2,
    threshold: 1,
    modelVersion: 'etch@3',
    contributors: [
      { sensor: 'rf_power', value: 1620, expected: 1500, contribution: 0.71 },
      { sensor: 'chamber_pressure', value: 41.2, expected: 38, contribution: 0.18 },
      { sensor: 'he_flow', value: 10.04, expected: 10, contribution: 0.06 },
      { sensor: 'esc_temp', value: 60, expected: 60, contribution: 0.01 },
    ],
    equipmentState: 'PRODUCTIVE',
    replay: false,
    ...patch,
  };
}

const resolved = (i: number) => alert({ source: `r${i}`, state: 'resolved', resolvedAt: T0 + i });

describe('alert list', () => {
  it('puts pending and firing alerts under Active, and the others under their own tab', () => {
    expect(['pending', 'firing', 'acknowledged', 'resolved'].map((state) => tabOf(alert({ state: state as AlertView['state'] })))).toEqual([
      'active', 'active', 'acknowledged', 'resolved',
    ]);
  });

  it('replaces an alert by id, and never reopens a resolved one with a late view', () => {
    const firing = alert();
    let list = alertList.upsert([], firing);
    list = alertList.upsert(list, { ...firing, state: 'acknowledged', ack: { by: 'ana', at: T0 + 40_000, comment: 'on it' } });
    expect(list.map((a) => a.state)).toEqual(['acknowledged']);
    list = alertList.upsert(list, { ...firing, state: 'resolved', resolvedAt: T0 + 90_000 });
    expect(alertList.upsert(list, firing)).toBe(list);
    expect(list.map((a) => a.state)).toEqual(['resolved']);
  });

  it('keeps every open alert and only the newest resolved ones', () => {
    const open = Array.from({ length: 80 }, (_, i) => alert({ source: `o${i}` }));
    let list = alertList.fromSnapshot([...open, ...Array.from({ length: MAX_RESOLVED }, (_, i) => resolved(i))]);
    list = alertList.upsert(list, resolved(1_000));
    expect(list.filter((a) => a.state !== 'resolved')).toHaveLength(80);
    const kept = alertsIn(list, 'resolved');
    expect(kept).toHaveLength(MAX_RESOLVED);
    expect(kept[0]?.source).toBe('r1000');
    expect(kept.some((a) => a.source === 'r0')).toBe(false);
  });

  it('orders open alerts most urgent first and resolved ones newest first, and counts each tab', () => {
    const list = [
      alert({ source: 'old-warning', startedAt: T0 }),
      alert({ source: 'pending-critical', severity: 'critical', state: 'pending', firingAt: null, startedAt: T0 + 3 }),
      alert({ source: 'new-warning', startedAt: T0 + 2 }),
      alert({ source: 'critical', severity: 'critical', startedAt: T0 + 1 }),
      alert({ source: 'acked', state: 'acknowledged' }),
      resolved(1),
      resolved(5),
    ];
    expect(alertsIn(list, 'active').map((a) => a.source)).toEqual(['critical', 'pending-critical', 'new-warning', 'old-warning']);
    expect(alertsIn(list, 'resolved').map((a) => a.source)).toEqual(['r5', 'r1']);
    expect(tabCounts(list)).toEqual({ active: 4, acknowledged: 1, resolved: 2 });
  });

  it('says what an operator reads: contributors, since when, who acknowledged', () => {
    expect(contributorTexts(alert())).toEqual(['rf_power 1620 vs 1500', 'chamber_pressure 41.2 vs 38', 'he_flow 10 vs 10']);
    expect(alertTiming(alert(), T0 + 30_000 + 4 * 60_000)).toBe('since 4 min');
    expect(alertTiming(alert({ state: 'pending', firingAt: null }), T0 + 12_000)).toBe('pending for 12 s');
    expect(alertTiming(alert({ state: 'resolved', resolvedAt: T0 + 300_000 }), T0 + 480_000)).toBe('resolved 3 min ago · lasted 5 min');
    expect(ackText(alert({ ack: { by: 'ana', at: T0, comment: 'swapping the RF match' } }), T0 + 120_000)).toBe('ack by ana 2 min ago: “swapping the RF match”');
    expect(ackText(alert({ ack: { by: 'ana', at: T0, comment: '' } }), T0 + 5_000)).toBe('ack by ana 5 s ago');
    expect(ackText(alert(), T0)).toBe('');
  });
});

describe('delivery line', () => {
  const sub = (patch: Partial<SubscriptionDeliveryStatus> = {}): SubscriptionDeliveryStatus => ({
    id: 'sub-mes', origin: 'https://mes.fab.example', pending: 0, dead: 0, capped: false, lastAttemptAt: T0, lastOk: true, lastStatus: 204, lastError: null, ...patch,
  });
  const status = (patch: Partial<DeliveryStatus> = {}): DeliveryStatus => ({
    at: T0, pending: 0, delivered: 3, dead: 0, countLimit: 100, subscriptions: [sub()], ...patch,
  });

  it('counts delivered, pending and dead, and is red when anything died', () => {
    expect(deliveryLine(status({ pending: 1 }), T0 + 12_000)).toEqual({
      text: 'webhooks: 3 delivered · 1 pending · 0 dead',
      kind: 'ok',
      details: ['https://mes.fab.example — 0 pending · 0 dead · last delivered (204) 12 s ago'],
    });
    expect(deliveryLine(status({ dead: 2, subscriptions: [sub({ dead: 2, lastOk: false, lastStatus: 500, lastError: 'HTTP 500' })] }), T0).kind).toBe('dead');
  });

  it('says when a receiver is failing, how far its backlog goes, and when there is nobody to tell', () => {
    const failing = status({ pending: 150, subscriptions: [sub({ pending: 100, capped: true, lastOk: false, lastStatus: null, lastError: 'network error ECONNREFUSED' }), sub({ id: 'new', origin: 'http://10.0.0.5:8080', lastAttemptAt: null, lastOk: null, lastStatus: null })] });
    expect(deliveryLine(failing, T0 + 60_000)).toEqual({
      text: 'webhooks: 3 delivered · 150 pending · 0 dead',
      kind: 'retrying',
      details: ['https://mes.fab.example — 100+ pending · 0 dead · last failed: network error ECONNREFUSED 60 s ago', 'http://10.0.0.5:8080 — 0 pending · 0 dead · not tried yet'],
    });
    expect(deliveryLine(status({ delivered: 0, subscriptions: [] }), T0)).toMatchObject({ text: 'webhooks: none subscribed', kind: 'none' });
    expect(deliveryLine(null, T0)).toMatchObject({ text: 'webhooks: …', kind: 'unknown' });
  });
});

describe('dashboard state for alerts', () => {
  it('takes the snapshot’s alerts, applies changes, and keeps them when a snapshot carries none', () => {
    const snap = {
      line: 'fab1', stations: [], anomalies: [], wafers: [], serverTime: T0, brokerConnected: true,
      replay: { status: { state: 'idle' as const, line: 'fab1-replay', run: null }, stations: [], anomalies: [], wafers: [] },
    };
    let s = reduce.snapshot(initialState(), { ...snap, alerts: [alert()] }, T0);
    s = reduce.alert(s, alert({ source: 'offline', class: 'data_quality' }));
    expect(s.alerts.map((a) => a.source)).toEqual(['model', 'offline']);
    expect(reduce.snapshot(s, snap, T0).alerts).toBe(s.alerts);
    expect(reduce.snapshot(s, { ...snap, alerts: [] }, T0).alerts).toEqual([]);
    const d: DeliveryStatus = { at: T0, pending: 0, delivered: 1, dead: 0, countLimit: 100, subscriptions: [] };
    expect(reduce.deliveries(s, d).deliveries).toBe(d);
  });

  it('remembers who acknowledges', () => {
    const kept = new Map<string, string>();
    const storage = { getItem: (k: string) => kept.get(k) ?? null, setItem: (k: string, v: string) => void kept.set(k, v) };
    expect(rememberedBy(storage)).toBe('');
    rememberBy(storage, '  ana ');
    expect(rememberedBy(storage)).toBe('ana');
  });
});


describe('alert texts in Korean', () => {
  it('says contributors, since when and who acknowledged in Korean, keeping sensor names and numbers', () => {
    const texts = inKorean(() => [
      contributorTexts(alert())[0],
      alertTiming(alert(), T0 + 30_000 + 4 * 60_000),
      alertTiming(alert({ state: 'resolved', resolvedAt: T0 + 300_000 }), T0 + 480_000),
      ackText(alert({ ack: { by: 'ana', at: T0, comment: 'RF 매칭 교체' } }), T0 + 120_000),
    ]);
    expect(texts).toEqual(['rf_power 1620 (기대 1500)', '4분 전부터', '3분 전 해결 · 5분 지속', 'ana 확인 · 2분 전: “RF 매칭 교체”']);
    // And back: the language is the page's, not fixed when a text was first made.
    expect(alertTiming(alert(), T0 + 30_000 + 4 * 60_000)).toBe('since 4 min');
  });

  it('says the webhook status in Korean, keeping origins, HTTP codes and the API path', () => {
    const status: DeliveryStatus = {
      at: T0, pending: 1, delivered: 3, dead: 0, countLimit: 100,
      subscriptions: [{ id: 's', origin: 'https://mes.fab.example', pending: 1, dead: 0, capped: false, lastAttemptAt: T0, lastOk: false, lastStatus: 503, lastError: null }],
    };
    expect(inKorean(() => deliveryLine(status, T0 + 12_000))).toEqual({
      text: '웹훅: 전달 3 · 대기 1 · 포기 0',
      kind: 'retrying',
      details: ['https://mes.fab.example — 대기 1 · 포기 0 · 최근 실패: HTTP 503 · 12초 전'],
    });
  });
});
