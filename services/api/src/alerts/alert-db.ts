import { closeSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { migrate } from './alert-db-migrate.js';
import { AlertQuerySchema, TransitionQuerySchema, parseOrThrow, selectAlertsSql, type AlertQuery, type TransitionQuery } from './alert-db-query.js';
import type { Alert, AlertTransition, LifecycleResult } from './types.js';

export { AlertQuerySchema, TransitionQuerySchema, type AlertQuery, type TransitionQuery } from './alert-db-query.js';
export { migrate } from './alert-db-migrate.js';
export { SubscriptionDb, publicSubscription, type PublicSubscription } from './subscriptions.js';
export { SubscriptionInputSchema, SubscriptionPatchSchema, WebhookSecretSchema, validateWebhookUrl } from './alert-db-subscription-input.js';

/**
 * Opens (creating the folder and file) the alerting database: WAL, synchronous=FULL (a kill -9 or power cut never
 * loses a committed transition), foreign keys on, busy timeout. `':memory:'` gives a private in-memory database.
 */
export function openAlertingDatabase(file: string): Database.Database {
  try {
    if (file !== ':memory:') {
      mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
      // The file holds webhook secrets: create it readable by this user only. SQLite gives its -wal and -shm
      // files the same mode. An existing file keeps the mode its operator chose.
      closeSync(openSync(file, 'a', 0o600));
    }
    const db = new Database(file);
    try {
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      // WAL lets the REST readers run while the lifecycle writes; a file system without it would silently fall
      // back to a rollback journal and serialise them, so say so instead.
      if (file !== ':memory:' && mode !== 'wal') throw new Error(`journal_mode is ${String(mode)}, not wal`);
      // FULL syncs the WAL on every commit: NORMAL (the reading store's choice) may lose the last commits on a
      // power cut, and a lost resolve or acknowledgement is exactly what this database exists to prevent.
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      // The dispatcher and the REST handlers share the file; wait for a writer rather than fail.
      db.pragma('busy_timeout = 5000');
      return db;
    } catch (err) {
      db.close();
      throw err;
    }
  } catch (err) {
    throw new Error(`cannot open the alerting database at ${file}`, { cause: err });
  }
}

const MIGRATIONS = [
  // 1: the alert as JSON (so fields the lifecycle adds later survive a round trip) next to the columns queries use.
  `CREATE TABLE alert (
     id TEXT PRIMARY KEY,
     line TEXT NOT NULL,
     station TEXT NOT NULL,
     class TEXT NOT NULL,
     state TEXT NOT NULL,
     started_at INTEGER NOT NULL,
     resolved_at INTEGER,
     body TEXT NOT NULL
   );
   CREATE INDEX alert_started ON alert (started_at, id);
   CREATE INDEX alert_station ON alert (line, station, started_at);
   CREATE INDEX alert_open ON alert (started_at) WHERE state <> 'resolved';
   CREATE TABLE alert_transition (
     seq INTEGER PRIMARY KEY,
     alert_id TEXT NOT NULL REFERENCES alert (id) ON DELETE CASCADE,
     at INTEGER NOT NULL,
     body TEXT NOT NULL
   );
   CREATE INDEX alert_transition_alert ON alert_transition (alert_id, seq);
   CREATE INDEX alert_transition_at ON alert_transition (at, seq);`,
] as const;

const UPSERT_ALERT = `INSERT INTO alert (id, line, station, class, state, started_at, resolved_at, body)
  VALUES (@id, @line, @station, @class, @state, @startedAt, @resolvedAt, @body)
  ON CONFLICT (id) DO UPDATE SET line = excluded.line, station = excluded.station, class = excluded.class,
    state = excluded.state, started_at = excluded.started_at, resolved_at = excluded.resolved_at, body = excluded.body`;

/**
 * The durable alert state: one row per alert episode and an append-only history of its transitions. Every method
 * is synchronous, so the integrator can put `save` and the outbox insert in one `db.transaction`: a notification
 * is queued if and only if the state change that caused it is committed.
 */
export class AlertDb {
  private readonly upsertAlert: Database.Statement;
  private readonly insertTransition: Database.Statement;
  private readonly selectOpen: Database.Statement;
  private readonly selectAlert: Database.Statement;
  private readonly selectHistory: Database.Statement;
  private readonly selectTransitions: Database.Statement;
  private readonly saveResult: Database.Transaction<(result: LifecycleResult) => void>;
  /** One prepared statement per filter combination of `alerts()`. */
  private readonly alertQueries = new Map<string, Database.Statement>();

  constructor(private readonly db: Database.Database) {
    migrate(db, 'alerts', MIGRATIONS);
    this.upsertAlert = db.prepare(UPSERT_ALERT);
    this.insertTransition = db.prepare('INSERT INTO alert_transition (alert_id, at, body) VALUES (?, ?, ?)');
    this.selectOpen = db.prepare(`SELECT body FROM alert WHERE state <> 'resolved' ORDER BY started_at, id`);
    this.selectAlert = db.prepare('SELECT body FROM alert WHERE id = ?');
    this.selectHistory = db.prepare('SELECT body FROM alert_transition WHERE alert_id = ? ORDER BY seq');
    this.selectTransitions = db.prepare('SELECT body FROM alert_transition WHERE at >= @from AND at < @to ORDER BY at, seq LIMIT @limit');
    this.saveResult = db.transaction((result: LifecycleResult) => this.applyResult(result));
  }

  /**
   * Saves one LifecycleResult: upserts alerts, appends transitions. Synchronous; the caller wraps it in
   * db.transaction with the outbox. It is atomic on its own too (a savepoint inside the caller's transaction), so a
   * caller that forgets cannot leave half a result. A transition whose alert is neither in the result nor stored
   * fails the foreign key and the whole save, so the history never points at a missing alert.
   */
  save(result: LifecycleResult): void {
    this.saveResult(result);
  }

  private applyResult(result: LifecycleResult): void {
    for (const alert of result.alerts) {
      this.upsertAlert.run({
        id: alert.id,
        line: alert.line,
        station: alert.station,
        class: alert.class,
        state: alert.state,
        startedAt: alert.startedAt,
        resolvedAt: alert.resolvedAt,
        body: JSON.stringify(alert),
      });
    }
    for (const transition of result.transitions) {
      try {
        this.insertTransition.run(transition.alertId, transition.at, JSON.stringify(transition));
      } catch (err) {
        throw new Error(`cannot append transition ${transition.from ?? 'new'} → ${transition.to} of alert ${transition.alertId}`, { cause: err });
      }
    }
  }

  /** Unresolved alerts, to restore the lifecycle after a restart; oldest first. */
  openAlerts(): Alert[] {
    return parseRows<Alert>(this.selectOpen.all());
  }

  alert(id: string): Alert | undefined {
    const row = this.selectAlert.get(id) as { body: string } | undefined;
    return row ? (JSON.parse(row.body) as Alert) : undefined;
  }

  /** Newest first (by start); filters optional; default limit 100, max 1000. Throws on an invalid query. */
  alerts(q: AlertQuery): Alert[] {
    const query = parseOrThrow(AlertQuerySchema, q, 'alert query');
    const text = selectAlertsSql(query);
    let statement = this.alertQueries.get(text);
    if (!statement) {
      statement = this.db.prepare(text);
      this.alertQueries.set(text, statement);
    }
    const { states, ...rest } = query;
    return parseRows<Alert>(statement.all({ ...rest, ...(states ? { states: JSON.stringify(states) } : {}) }));
  }

  /** Every transition of one alert, oldest first (in the order the lifecycle made them). */
  history(alertId: string): AlertTransition[] {
    return parseRows<AlertTransition>(this.selectHistory.all(alertId));
  }

  /**
   * Transitions across alerts with `from <= at < to`, oldest first, for export to InfluxDB as events. Default
   * limit 1000, max 10 000; a full page means there may be more, so the exporter narrows the range.
   */
  transitions(q: TransitionQuery): AlertTransition[] {
    return parseRows<AlertTransition>(this.selectTransitions.all(parseOrThrow(TransitionQuerySchema, q, 'transition query')));
  }
}

function parseRows<T>(rows: unknown[]): T[] {
  return (rows as { body: string }[]).map((row) => JSON.parse(row.body) as T);
}

