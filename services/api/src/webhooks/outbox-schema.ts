/**
 * The outbox's tables. `seq` is the enqueue order (AUTOINCREMENT, so a number is never reused even after rows
 * are pruned); a subscription's deliveries go out in `seq` order. The partial index holds only pending rows, so
 * finding each subscription's head stays cheap however long the delivered history grows.
 */
export const OUTBOX_SCHEMA = `
CREATE TABLE IF NOT EXISTS webhook_delivery (
  seq               INTEGER PRIMARY KEY AUTOINCREMENT,
  id                TEXT    NOT NULL UNIQUE,
  subscription_id   TEXT    NOT NULL,
  notification_id   TEXT    NOT NULL,
  alert_id          TEXT    NOT NULL,
  kind              TEXT    NOT NULL CHECK (kind IN ('firing', 'escalated', 'resolved', 'test')),
  body              TEXT    NOT NULL,
  status            TEXT    NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
  attempts          INTEGER NOT NULL DEFAULT 0,
  created_at        INTEGER NOT NULL,
  first_attempt_at  INTEGER,
  next_attempt_at   INTEGER NOT NULL,
  last_attempt_at   INTEGER,
  last_status       INTEGER,
  last_error        TEXT,
  delivered_at      INTEGER,
  UNIQUE (notification_id, subscription_id)
);
CREATE INDEX IF NOT EXISTS webhook_delivery_pending ON webhook_delivery (subscription_id, seq) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS webhook_delivery_by_status ON webhook_delivery (status, seq);
CREATE INDEX IF NOT EXISTS webhook_delivery_by_subscription ON webhook_delivery (subscription_id, seq);
CREATE INDEX IF NOT EXISTS webhook_delivery_by_alert ON webhook_delivery (alert_id, seq);

CREATE TABLE IF NOT EXISTS webhook_attempt (
  delivery_id  TEXT    NOT NULL REFERENCES webhook_delivery (id),
  at           INTEGER NOT NULL,
  ok           INTEGER NOT NULL,
  status       INTEGER,
  error        TEXT
);
-- Attempts of one delivery read back in rowid order: the order they were made, even within one millisecond.
CREATE INDEX IF NOT EXISTS webhook_attempt_by_delivery ON webhook_attempt (delivery_id);
`;

export interface DeliveryRow {
  seq: number;
  id: string;
  subscription_id: string;
  notification_id: string;
  alert_id: string;
  kind: string;
  body: string;
  status: string;
  attempts: number;
  created_at: number;
  first_attempt_at: number | null;
  next_attempt_at: number;
  last_attempt_at: number | null;
  last_status: number | null;
  last_error: string | null;
  delivered_at: number | null;
}
