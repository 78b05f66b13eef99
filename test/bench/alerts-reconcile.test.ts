import { describe, expect, it } from 'vitest';
import { reconcile, type OutboxRows } from './alerts-reconcile.js';

const outbox = (rows: [id: string, createdAt: number, status: string][]): OutboxRows => ({
  id: rows.map((r) => r[0]),
  createdAt: rows.map((r) => r[1]),
  status: rows.map((r) => r[2]),
});

describe('reconcile: the outbox against what the receivers got', () => {
  it('counts a clean burst as all received, none lost, latency from enqueue to first arrival', () => {
    const r = reconcile(2, outbox([['a', 100, 'delivered'], ['b', 100, 'delivered']]), { id: ['b', 'a'], at: [130, 110] });
    expect(r).toMatchObject({ unique: 2, duplicates: 0, unknown: 0, lost: 0, pending: 0, dead: 0, lastArrivalAt: 130 });
    expect(r.latenciesMs.sort((x, y) => x - y)).toEqual([10, 30]);
  });

  it('counts repeats as duplicates and keeps the first arrival for latency', () => {
    const r = reconcile(1, outbox([['a', 100, 'delivered']]), { id: ['a', 'a', 'a'], at: [105, 200, 300] });
    expect(r).toMatchObject({ unique: 1, duplicates: 2, lost: 0, latenciesMs: [5], lastArrivalAt: 105 });
  });

  it('calls a delivery lost when the outbox says delivered but no receiver has it, or when it was never enqueued', () => {
    const r = reconcile(4, outbox([['a', 100, 'delivered'], ['b', 100, 'delivered'], ['c', 100, 'delivered']]), { id: ['a', 'c'], at: [101, 102] });
    expect(r).toMatchObject({ notEnqueued: 1, deliveredNotReceived: 1, lost: 2 });
  });

  it('does not call pending or dead deliveries lost, and counts each apart', () => {
    const r = reconcile(3, outbox([['a', 100, 'pending'], ['b', 100, 'dead'], ['c', 100, 'delivered']]), { id: ['c'], at: [101] });
    expect(r).toMatchObject({ lost: 0, pending: 1, dead: 1, unique: 1 });
  });

  it('flags webhook-ids the outbox never held, once each, and nothing arrived means no last arrival', () => {
    const r = reconcile(1, outbox([['a', 100, 'pending']]), { id: ['zz', 'zz'], at: [1, 2] });
    expect(r).toMatchObject({ unknown: 1, duplicates: 1, unique: 0 });
    expect(r.lastArrivalAt).toBeNaN();
  });
});
