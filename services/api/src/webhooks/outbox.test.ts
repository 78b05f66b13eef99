import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { nthNotification, subscription, T0, tempDatabase } from './fixtures.test-support.js';
import { deliveryId, Outbox } from './outbox.js';

const mes = subscription({ id: 'sub-mes' });
const chat = subscription({ id: 'sub-chat' });
const fail = (at: number, nextAttemptAt: number | null) => ({ ok: false, status: 500, error: 'HTTP 500', at, nextAttemptAt });

describe('Outbox', () => {
  let temp: ReturnType<typeof tempDatabase>;
  let db: Database.Database;
  let outbox: Outbox;

  beforeEach(() => {
    temp = tempDatabase('lw-outbox-');
    db = temp.open();
    outbox = new Outbox(db);
  });
  afterEach(() => {
    db.close();
    temp.remove();
  });

  it('queues one delivery per notification and subscription, with a deterministic webhook-id', () => {
    const n = nthNotification(0);
    expect(outbox.enqueue(n, mes, '{"a":1}', T0)).toBe(true);
    expect(outbox.enqueue(n, mes, '{"a":2}', T0 + 1)).toBe(false);
    expect(outbox.enqueue(n, chat, '{"a":1}', T0)).toBe(true);
    const [d] = outbox.deliveries({ subscriptionId: mes.id });
    expect(d).toMatchObject({
      id: deliveryId(n.id, mes.id),
      notificationId: n.id,
      alertId: n.alert.id,
      kind: 'firing',
      body: '{"a":1}',
      status: 'pending',
      attempts: 0,
      createdAt: T0,
      nextAttemptAt: T0,
      firstAttemptAt: null,
    });
    expect(d?.id).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(deliveryId(n.id, chat.id)).not.toBe(d?.id);
    expect(outbox.counts()).toEqual({ pending: 2, delivered: 0, dead: 0 });
  });

  it("enqueues inside the caller's transaction: a rolled-back change queues nothing", () => {
    const change = db.transaction(() => {
      outbox.enqueue(nthNotification(0), mes, '{}', T0);
      throw new Error('alert write failed');
    });
    expect(() => change()).toThrow(/alert write failed/);
    expect(outbox.counts().pending).toBe(0);
  });

  it("returns each subscription's oldest due delivery; a failing head holds back only its own subscription", () => {
    for (let i = 0; i < 3; i++) for (const s of [mes, chat]) outbox.enqueue(nthNotification(i), s, `{"i":${i}}`, T0 + i);
    expect(outbox.due(T0 + 10, 10).map((d) => [d.subscriptionId, d.body])).toEqual([
      ['sub-mes', '{"i":0}'],
      ['sub-chat', '{"i":0}'],
    ]);
    expect(outbox.due(T0 + 10, 1)).toHaveLength(1);
    expect(outbox.due(T0 - 1, 10)).toEqual([]);

    const [mesHead, chatHead] = outbox.due(T0 + 10, 10);
    outbox.recordAttempt(mesHead!.id, fail(T0 + 10, T0 + 5_000));
    outbox.recordAttempt(chatHead!.id, { ok: true, status: 204, error: null, at: T0 + 10, nextAttemptAt: null });
    // mes waits for its head's retry; chat moves on to its next one.
    expect(outbox.due(T0 + 20, 10).map((d) => [d.subscriptionId, d.body])).toEqual([['sub-chat', '{"i":1}']]);
    expect(outbox.due(T0 + 5_000, 10).map((d) => [d.subscriptionId, d.body])).toEqual([
      ['sub-mes', '{"i":0}'],
      ['sub-chat', '{"i":1}'],
    ]);
  });

  it('records every attempt, goes dead when told to give up, and keeps the log', () => {
    outbox.enqueue(nthNotification(0), mes, '{}', T0);
    const id = deliveryId(nthNotification(0).id, mes.id);
    outbox.recordAttempt(id, fail(T0 + 1, T0 + 5_000));
    outbox.recordAttempt(id, { ok: false, status: null, error: 'network error ECONNREFUSED', at: T0 + 5_000, nextAttemptAt: T0 + 9_000 });
    expect(outbox.get(id)).toMatchObject({ status: 'pending', attempts: 2, firstAttemptAt: T0 + 1, lastAttemptAt: T0 + 5_000, nextAttemptAt: T0 + 9_000, lastStatus: null });
    outbox.recordAttempt(id, fail(T0 + 9_000, null));
    expect(outbox.get(id)).toMatchObject({ status: 'dead', attempts: 3, lastStatus: 500, lastError: 'HTTP 500', deliveredAt: null });
    expect(outbox.deliveries({ status: 'dead' }).map((d) => d.id)).toEqual([id]);
    expect(outbox.due(T0 + 100_000, 10)).toEqual([]);
    expect(outbox.attempts(id)).toEqual([
      { at: T0 + 1, status: 500, error: 'HTTP 500', ok: false },
      { at: T0 + 5_000, status: null, error: 'network error ECONNREFUSED', ok: false },
      { at: T0 + 9_000, status: 500, error: 'HTTP 500', ok: false },
    ]);
    expect(() => outbox.recordAttempt('msg_unknown', fail(T0, null))).toThrow(/no webhook delivery/);
    expect(outbox.attempts('msg_unknown')).toEqual([]);
  });

  it('redelivers a dead or delivered delivery now, with the same id and a fresh retry window', () => {
    outbox.enqueue(nthNotification(0), mes, '{}', T0);
    outbox.enqueue(nthNotification(1), mes, '{}', T0);
    const [dead, delivered] = [0, 1].map((i) => deliveryId(nthNotification(i).id, mes.id)) as [string, string];
    outbox.recordAttempt(dead, fail(T0 + 1, null));
    outbox.recordAttempt(delivered, { ok: true, status: 200, error: null, at: T0 + 2, nextAttemptAt: null });
    expect(outbox.counts()).toEqual({ pending: 0, delivered: 1, dead: 1 });

    expect(outbox.redeliver(delivered, T0 + 50)).toMatchObject({ id: delivered, status: 'pending', attempts: 0, firstAttemptAt: null, deliveredAt: null, nextAttemptAt: T0 + 50 });
    expect(outbox.redeliver(dead, T0 + 60)).toMatchObject({ id: dead, status: 'pending', nextAttemptAt: T0 + 60 });
    // In enqueue order: the older one goes first.
    expect(outbox.due(T0 + 60, 10).map((d) => d.id)).toEqual([dead]);
    expect(outbox.attempts(dead)).toHaveLength(1);
    expect(() => outbox.redeliver('msg_unknown', T0)).toThrow(/no webhook delivery/);
  });

  it('queues a test delivery behind the others and makes a waiting subscription due now', () => {
    outbox.enqueue(nthNotification(0), mes, '{}', T0);
    const head = deliveryId(nthNotification(0).id, mes.id);
    outbox.recordAttempt(head, fail(T0, T0 + 3_600_000));
    const test = outbox.enqueueTest(mes, '{"test":true}', T0 + 10);
    expect(test).toMatchObject({ kind: 'test', alertId: '', status: 'pending', subscriptionId: mes.id });
    expect(outbox.enqueueTest(mes, '{"test":true}', T0 + 11).id).not.toBe(test.id);
    expect(outbox.due(T0 + 10, 10).map((d) => d.id)).toEqual([head]);
  });

  it("abandons a deleted subscription's pending deliveries into the dead-letter list", () => {
    for (let i = 0; i < 3; i++) outbox.enqueue(nthNotification(i), mes, '{}', T0);
    outbox.enqueue(nthNotification(0), chat, '{}', T0);
    expect(outbox.abandon(mes.id, 'subscription deleted; not sent', T0 + 5)).toBe(3);
    expect(outbox.deliveries({ status: 'dead' }).map((d) => d.lastError)).toEqual(Array(3).fill('subscription deleted; not sent'));
    expect(outbox.counts()).toEqual({ pending: 1, delivered: 0, dead: 3 });
  });

  it('lists deliveries newest first, filtered by subscription, status and alert, bounded', () => {
    for (let i = 0; i < 5; i++) outbox.enqueue(nthNotification(i), mes, '{}', T0 + i);
    outbox.enqueue(nthNotification(2, 'resolved'), mes, '{}', T0 + 9);
    outbox.enqueue(nthNotification(2), chat, '{}', T0 + 10);
    expect(outbox.deliveries({}).map((d) => d.createdAt)).toEqual([T0 + 10, T0 + 9, T0 + 4, T0 + 3, T0 + 2, T0 + 1, T0]);
    expect(outbox.deliveries({ limit: 2 })).toHaveLength(2);
    expect(outbox.deliveries({ alertId: nthNotification(2).alert.id }).map((d) => [d.subscriptionId, d.kind])).toEqual([
      ['sub-chat', 'firing'],
      ['sub-mes', 'resolved'],
      ['sub-mes', 'firing'],
    ]);
    expect(outbox.deliveries({ alertId: nthNotification(2).alert.id, subscriptionId: 'sub-mes', status: 'pending' })).toHaveLength(2);
    expect(outbox.deliveries({ status: 'delivered' })).toEqual([]);
  });

  it('survives a reopen: the schema is created once and the queue is still there', () => {
    outbox.enqueue(nthNotification(0), mes, '{}', T0);
    db.close();
    db = temp.open();
    outbox = new Outbox(db);
    new Outbox(db);
    expect(outbox.due(T0, 10)).toHaveLength(1);
    expect(outbox.enqueue(nthNotification(0), mes, '{}', T0)).toBe(false);
  });
});
