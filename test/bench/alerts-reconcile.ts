/**
 * Checks what the receivers got against what the outbox holds, webhook-id by webhook-id: the bench's "nothing
 * lost" rests on this, so it is a pure function with a test of its own.
 */
export interface OutboxRows {
  id: string[];
  /** Enqueue time (the outbox's created_at), epoch ms. */
  createdAt: number[];
  status: string[];
}

export interface ArrivalRows {
  id: string[];
  at: number[];
}

export interface Reconciled {
  /** Distinct enqueued webhook-ids received. */
  unique: number;
  /** Arrivals of an id already received (at-least-once delivery allows them; they are counted, not hidden). */
  duplicates: number;
  /** Received ids the outbox never held (must be 0). */
  unknown: number;
  /** Deliveries that should exist (alerts × subscriptions) but were never enqueued. */
  notEnqueued: number;
  /** Marked delivered by the outbox, never seen by a receiver. */
  deliveredNotReceived: number;
  /** Silent losses: notEnqueued + deliveredNotReceived. Dead letters are visible, so they are counted apart. */
  lost: number;
  /** Still pending when the phase stopped: durable, still to be sent. */
  pending: number;
  dead: number;
  /** First arrival − enqueue, per received id, ms. */
  latenciesMs: number[];
  /** The latest first arrival; NaN when nothing arrived. */
  lastArrivalAt: number;
}

export function reconcile(expected: number, outbox: OutboxRows, arrivals: ArrivalRows): Reconciled {
  const created = new Map<string, number>();
  outbox.id.forEach((id, i) => created.set(id, outbox.createdAt[i] as number));
  const first = new Map<string, number>();
  const unknown = new Set<string>();
  let duplicates = 0;
  arrivals.id.forEach((id, i) => {
    if (first.has(id) || unknown.has(id)) duplicates++;
    else if (created.has(id)) first.set(id, arrivals.at[i] as number);
    else unknown.add(id);
  });
  let pending = 0;
  let dead = 0;
  let deliveredNotReceived = 0;
  outbox.id.forEach((id, i) => {
    const status = outbox.status[i];
    if (status === 'pending') pending++;
    else if (status === 'dead') dead++;
    else if (!first.has(id)) deliveredNotReceived++;
  });
  const latenciesMs: number[] = [];
  let lastArrivalAt = Number.NaN;
  for (const [id, at] of first) {
    latenciesMs.push(at - (created.get(id) as number));
    if (Number.isNaN(lastArrivalAt) || at > lastArrivalAt) lastArrivalAt = at;
  }
  const notEnqueued = Math.max(0, expected - created.size);
  return {
    unique: first.size, duplicates, unknown: unknown.size, notEnqueued, deliveredNotReceived,
    lost: notEnqueued + deliveredNotReceived, pending, dead, latenciesMs, lastArrivalAt,
  };
}
