import { createHash, randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { Notification, NotificationKind, Subscription } from '../alerts/types.js';
import { OUTBOX_SCHEMA, type DeliveryRow } from './outbox-schema.js';

export interface Delivery {
  /** The webhook-id: deterministic from notification id + subscription id, so receivers can deduplicate on it. */
  id: string;
  subscriptionId: string;
  notificationId: string;
  /** Empty for a test delivery. */
  alertId: string;
  kind: NotificationKind | 'test';
  body: string;
  status: 'pending' | 'delivered' | 'dead';
  /** Attempts since the delivery was (re)queued; the attempt log keeps every one. */
  attempts: number;
  createdAt: number;
  firstAttemptAt: number | null;
  nextAttemptAt: number;
  lastAttemptAt: number | null;
  lastStatus: number | null;
  lastError: string | null;
  deliveredAt: number | null;
}

export interface DeliveryAttempt {
  at: number;
  status: number | null;
  error: string | null;
  ok: boolean;
}

export interface AttemptOutcome extends DeliveryAttempt {
  /** When to try again; null gives up and the delivery goes dead. */
  nextAttemptAt: number | null;
}

export interface DeliveryQuery {
  subscriptionId?: string;
  status?: Delivery['status'];
  alertId?: string;
  /** Default 100, at most 1000. */
  limit?: number;
}

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1_000;

/**
 * The webhook-id of one notification to one subscription: `msg_` + 128 bits of SHA-256, the same on every
 * process and every restart, so a second enqueue of the pair is recognised and a redelivery keeps the id.
 */
export function deliveryId(notificationId: string, subscriptionId: string): string {
  return `msg_${createHash('sha256').update(`${notificationId}\n${subscriptionId}`).digest('hex').slice(0, 32)}`;
}

function toDelivery(r: DeliveryRow): Delivery {
  return {
    id: r.id,
    subscriptionId: r.subscription_id,
    notificationId: r.notification_id,
    alertId: r.alert_id,
    kind: r.kind as Delivery['kind'],
    body: r.body,
    status: r.status as Delivery['status'],
    attempts: r.attempts,
    createdAt: r.created_at,
    firstAttemptAt: r.first_attempt_at,
    nextAttemptAt: r.next_attempt_at,
    lastAttemptAt: r.last_attempt_at,
    lastStatus: r.last_status,
    lastError: r.last_error,
    deliveredAt: r.delivered_at,
  };
}

/**
 * The durable webhook outbox: one row per (notification, subscription), written in the same transaction as the
 * alert change that caused it, so a notification is queued if and only if the change committed. Rows are only
 * ever marked, never deleted here, so the delivery log and the dead-letter list are the same table.
 */
export class Outbox {
  private readonly insert: Database.Statement;
  private readonly byId: Database.Statement<[string], DeliveryRow>;
  private readonly heads: Database.Statement<[number, number], DeliveryRow>;
  private readonly insertAttempt: Database.Statement;
  private readonly applyAttempt: Database.Statement;
  private readonly requeue: Database.Statement;
  private readonly hurry: Database.Statement;
  private readonly abandonPending: Database.Statement;
  private readonly attemptRows: Database.Statement<[string], { at: number; status: number | null; error: string | null; ok: number }>;
  private readonly statusCounts: Database.Statement<[], { status: Delivery['status']; n: number }>;
  /** One prepared listing per combination of filters (eight at most). */
  private readonly listings = new Map<string, Database.Statement<(string | number)[], DeliveryRow>>();

  constructor(private readonly db: Database.Database) {
    db.exec(OUTBOX_SCHEMA);
    this.insert = db.prepare(
      `INSERT OR IGNORE INTO webhook_delivery (id, subscription_id, notification_id, alert_id, kind, body, status, created_at, next_attempt_at)
       VALUES (@id, @subscriptionId, @notificationId, @alertId, @kind, @body, 'pending', @now, @now)`,
    );
    this.byId = db.prepare('SELECT * FROM webhook_delivery WHERE id = ?');
    // Each subscription's oldest pending delivery, if it is due: a failing head holds back only its own queue.
    // A skip scan over the partial pending index: one index seek per subscription with pending deliveries, so the
    // cost does not grow with the backlog (a GROUP BY read every pending row: 5 ms a call at 10,000 pending).
    this.heads = db.prepare(
      `WITH RECURSIVE subs(sid) AS (
         SELECT MIN(subscription_id) FROM webhook_delivery INDEXED BY webhook_delivery_pending WHERE status = 'pending'
         UNION ALL
         SELECT (SELECT MIN(subscription_id) FROM webhook_delivery INDEXED BY webhook_delivery_pending WHERE status = 'pending' AND subscription_id > subs.sid)
         FROM subs WHERE subs.sid IS NOT NULL
       )
       SELECT d.* FROM subs
       JOIN webhook_delivery d ON d.seq = (SELECT MIN(seq) FROM webhook_delivery WHERE status = 'pending' AND subscription_id = subs.sid)
       WHERE subs.sid IS NOT NULL AND d.next_attempt_at <= ? ORDER BY d.seq LIMIT ?`,
    );
    this.insertAttempt = db.prepare('INSERT INTO webhook_attempt (delivery_id, at, ok, status, error) VALUES (?, ?, ?, ?, ?)');
    this.applyAttempt = db.prepare(
      `UPDATE webhook_delivery SET
         attempts = attempts + 1,
         first_attempt_at = COALESCE(first_attempt_at, @at),
         last_attempt_at = @at, last_status = @status, last_error = @error,
         status = CASE WHEN @ok THEN 'delivered' WHEN @next IS NULL THEN 'dead' ELSE 'pending' END,
         delivered_at = CASE WHEN @ok THEN @at ELSE delivered_at END,
         next_attempt_at = COALESCE(@next, next_attempt_at)
       WHERE id = @id`,
    );
    // A fresh retry window: a redelivered dead letter gets the full schedule again, not one try past its deadline.
    this.requeue = db.prepare(
      `UPDATE webhook_delivery SET status = 'pending', attempts = 0, first_attempt_at = NULL, next_attempt_at = ?,
         delivered_at = NULL WHERE id = ?`,
    );
    this.hurry = db.prepare(
      `UPDATE webhook_delivery SET next_attempt_at = MIN(next_attempt_at, ?) WHERE subscription_id = ? AND status = 'pending'`,
    );
    this.abandonPending = db.prepare(
      `UPDATE webhook_delivery SET status = 'dead', last_error = ?, next_attempt_at = ? WHERE subscription_id = ? AND status = 'pending'`,
    );
    this.attemptRows = db.prepare('SELECT at, status, error, ok FROM webhook_attempt WHERE delivery_id = ? ORDER BY rowid');
    this.statusCounts = db.prepare('SELECT status, COUNT(*) AS n FROM webhook_delivery GROUP BY status');
  }

  /**
   * Inside the caller's transaction: one delivery per (notification, subscription); a repeat of the same pair
   * is ignored (returns false). The body is fixed now, so every retry sends the same bytes.
   */
  enqueue(n: Notification, s: Subscription, body: string, now: number): boolean {
    const id = deliveryId(n.id, s.id);
    const added = this.insert.run({ id, subscriptionId: s.id, notificationId: n.id, alertId: n.alert.id, kind: n.kind, body, now });
    return added.changes === 1;
  }

  /**
   * Queues a test delivery behind the subscription's other deliveries, and makes those due now: whoever sends a
   * test has usually just fixed their receiver and should not wait out a backoff of up to an hour.
   */
  enqueueTest(s: Subscription, body: string, now: number): Delivery {
    const notificationId = `test/${randomUUID()}`;
    const id = deliveryId(notificationId, s.id);
    this.db.transaction(() => {
      this.insert.run({ id, subscriptionId: s.id, notificationId, alertId: '', kind: 'test', body, now });
      this.hurry.run(now, s.id);
    })();
    return this.get(id);
  }

  /** The next deliveries due, oldest first, at most one per subscription (its oldest pending one). */
  due(now: number, limit: number): Delivery[] {
    return this.heads.all(now, Math.max(0, Math.floor(limit))).map(toDelivery);
  }

  /** Records one attempt's outcome on the delivery and appends it to the attempt log, in one transaction. */
  recordAttempt(id: string, outcome: AttemptOutcome): void {
    this.db.transaction(() => {
      const { changes } = this.applyAttempt.run({
        id,
        at: outcome.at,
        ok: outcome.ok ? 1 : 0,
        status: outcome.status,
        error: outcome.error,
        next: outcome.nextAttemptAt,
      });
      if (changes === 0) throw new Error(`no webhook delivery ${id}`);
      this.insertAttempt.run(id, outcome.at, outcome.ok ? 1 : 0, outcome.status, outcome.error);
    })();
  }

  /**
   * Gives up on every pending delivery of a subscription (it was deleted): they go dead with `reason` as their
   * last error and stay in the dead-letter list. Returns how many.
   */
  abandon(subscriptionId: string, reason: string, at: number): number {
    return this.abandonPending.run(reason, at, subscriptionId).changes;
  }

  /** Newest first. */
  deliveries(q: DeliveryQuery): Delivery[] {
    const filters: [string, string | undefined][] = [
      ['subscription_id', q.subscriptionId],
      ['status', q.status],
      ['alert_id', q.alertId],
    ];
    const given = filters.filter((f): f is [string, string] => f[1] !== undefined);
    const where = given.map(([column]) => `${column} = ?`);
    const params: (string | number)[] = given.map(([, value]) => value);
    const limit = Math.min(MAX_LIMIT, Math.max(1, Math.floor(q.limit ?? DEFAULT_LIMIT)));
    const sql = `SELECT * FROM webhook_delivery ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT ?`;
    let statement = this.listings.get(sql);
    if (!statement) this.listings.set(sql, (statement = this.db.prepare<(string | number)[], DeliveryRow>(sql)));
    return statement.all(...params, limit).map(toDelivery);
  }

  /** Every attempt of one delivery, in the order they were made. */
  attempts(deliveryId: string): DeliveryAttempt[] {
    return this.attemptRows.all(deliveryId).map((r) => ({ at: r.at, status: r.status, error: r.error, ok: r.ok === 1 }));
  }

  /**
   * Puts a delivery back in the queue now (manual redelivery) with a fresh retry window and the same webhook-id,
   * so a receiver that already has it can tell. It keeps its place in enqueue order, so it goes out before the
   * subscription's newer deliveries.
   */
  redeliver(id: string, now: number): Delivery {
    const { changes } = this.requeue.run(now, id);
    if (changes === 0) throw new Error(`no webhook delivery ${id}`);
    return this.get(id);
  }

  /** Counts per status, for metrics and the page. */
  counts(): Record<Delivery['status'], number> {
    const counts: Record<Delivery['status'], number> = { pending: 0, delivered: 0, dead: 0 };
    for (const r of this.statusCounts.all()) counts[r.status] = r.n;
    return counts;
  }

  get(id: string): Delivery {
    const row = this.byId.get(id);
    if (!row) throw new Error(`no webhook delivery ${id}`);
    return toDelivery(row);
  }
}
