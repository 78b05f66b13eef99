import type Database from 'better-sqlite3';
import type { Store } from '@linewatch/store';
import type { Logger } from 'pino';
import type prom from 'prom-client';
import type { LineEvents, TypedBus } from '../line-events.js';
import { AlertDb, openAlertingDatabase, SubscriptionDb } from './alert-db.js';
import { AlertLifecycle, type LifecycleRules } from './lifecycle.js';
import { AlertMetrics } from './alert-metrics.js';
import { AlertEventExporter } from './event-export.js';
import { ObservationFeed } from './observations.js';
import type { Acknowledgement, Alert, LifecycleResult, Subscription } from './types.js';
import { WebhookDispatcher, type DispatcherOptions } from '../webhooks/dispatcher.js';
import { Outbox, type Delivery } from '../webhooks/outbox.js';
import { buildPayload, buildTestPayload } from '../webhooks/payload.js';

export interface AlertingOptions {
  /** SQLite file for alert state, subscriptions and the outbox. */
  dbPath: string;
  /** Optional JSON file of webhook subscriptions, loaded (upserted) at start. */
  webhooksFile: string;
  /** Base URL of the page, for links to a station in webhook payloads (known once the API listens). */
  publicUrl: () => string;
  rules: LifecycleRules;
  dispatcher?: Partial<DispatcherOptions>;
  /** Time-based transitions (for-duration, clear hold) are checked this often. */
  tickMs: number;
}

/**
 * The alerting component of the API: detector verdicts → lifecycle → durable state and outbox (one transaction
 * per change, so a kill -9 never splits an alert's new state from its notifications) → signed webhooks.
 * One instance owns the database: it is the single writer that serialises every alert key.
 */
export class Alerting {
  private db: Database.Database | undefined;
  private alerts!: AlertDb;
  private subscriptions!: SubscriptionDb;
  private outbox!: Outbox;
  private lifecycle!: AlertLifecycle;
  private dispatcher!: WebhookDispatcher;
  private exporter: AlertEventExporter | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly unsubscribe: (() => void)[] = [];
  private readonly listeners: ((alert: Alert) => void)[] = [];
  private readonly log: Logger;
  /** Changes the database refused (disk full, say): counted and logged, never silent. */
  readonly stats = { saveFailures: 0, notificationsNotQueued: 0 };

  constructor(
    private readonly deps: {
      options: AlertingOptions;
      bus: TypedBus<LineEvents>;
      /** The live line: a detector's own trouble (offline, storage degraded) is raised as an alert on it. */
      line?: string;
      logger: Logger;
      /** The system of record the alert history is exported to as events; none in unit tests. */
      store?: Store;
      /** Where alerting's metrics go (the API's registry). */
      registry?: prom.Registry;
      now?: () => number;
    },
  ) {
    this.log = deps.logger.child({ module: 'alerting' });
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }

  start(): void {
    const { options, bus } = this.deps;
    const db = openAlertingDatabase(options.dbPath);
    this.db = db;
    this.alerts = new AlertDb(db);
    this.subscriptions = new SubscriptionDb(db);
    this.outbox = new Outbox(db);
    if (options.webhooksFile) {
      const ids = this.subscriptions.loadFile(options.webhooksFile, this.now());
      this.log.info({ file: options.webhooksFile, subscriptions: ids.length }, 'webhook subscriptions loaded');
    }
    const open = this.alerts.openAlerts();
    this.lifecycle = new AlertLifecycle(options.rules, open);
    const metrics = this.deps.registry
      ? new AlertMetrics(this.deps.registry, {
          outbox: () => this.outbox.counts(),
          open: () => this.lifecycle.open(),
          ignored: () => ({ ...this.lifecycle.counters() }),
          exported: () => this.exporter?.stats,
          failures: () => this.stats,
        })
      : undefined;
    this.dispatcher = new WebhookDispatcher({
      outbox: this.outbox,
      ...(metrics
        ? { metrics: { delivered: () => metrics.deliveries.inc({ outcome: 'delivered' }), failed: () => metrics.deliveries.inc({ outcome: 'failed' }), dead: () => metrics.deliveries.inc({ outcome: 'dead' }) } }
        : {}),
      subscription: (id) => this.subscriptions.get(id),
      logger: this.deps.logger,
      ...(options.dispatcher ? { options: options.dispatcher } : {}),
      ...(this.deps.now ? { now: this.deps.now } : {}),
    });
    const feed = new ObservationFeed({ emit: (o) => this.apply(this.lifecycle.observe(o)), now: () => this.now() });
    this.unsubscribe.push(
      bus.on('status', (s) => feed.status(s)),
      bus.on('anomaly', (a) => feed.anomaly(a)),
      bus.on('wafer', (v) => feed.wafer(v)),
      bus.on('services', (services) => {
        for (const health of services) {
          const line = this.deps.line ?? health.line;
          if (line !== '+') feed.service(line, health);
        }
      }),
      bus.on('state', (u) => {
        feed.state(u);
        // A tool going down mutes its open alerts at once, not at its next status.
        this.apply(this.lifecycle.equipment({ line: u.line, station: u.station, state: u.state.state, at: this.now() }));
      }),
    );
    this.timer = setInterval(() => {
      try {
        this.apply(this.lifecycle.tick(this.now()));
      } catch (err) {
        // A failed tick (the database full, say) must not take the API down; the next tick tries again.
        this.log.error({ err }, 'alert tick failed');
      }
    }, options.tickMs);
    this.timer.unref();
    this.dispatcher.start();
    if (this.deps.store) {
      this.exporter = new AlertEventExporter({ db, alerts: this.alerts, store: this.deps.store, logger: this.deps.logger, everyMs: 2_000 });
      this.exporter.start();
    }
    this.log.info({ open: open.length, db: options.dbPath }, 'alerting started');
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    for (const off of this.unsubscribe.splice(0)) off();
    await this.exporter?.stop();
    await this.dispatcher?.stop();
    this.db?.close();
    this.db = undefined;
  }

  /** Calls `listener` with every alert whose state changed (the live feed forwards them); returns how to stop. */
  onAlert(listener: (alert: Alert) => void): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  acknowledge(alertId: string, ack: Omit<Acknowledgement, 'at'>): Alert {
    this.apply(this.lifecycle.acknowledge(alertId, { ...ack, at: this.now() }));
    return this.alerts.alert(alertId) as Alert;
  }

  get alertDb(): AlertDb {
    return this.alerts;
  }

  get subscriptionDb(): SubscriptionDb {
    return this.subscriptions;
  }

  get deliveries(): Outbox {
    return this.outbox;
  }

  /** Tells the dispatcher to look at the outbox now (after a manual redelivery). */
  kick(): void {
    this.dispatcher.kick();
  }

  /** Queues a signed test delivery to one subscription, behind its backlog. */
  testDelivery(subscription: Subscription): Delivery {
    const now = this.now();
    const delivery = this.outbox.enqueueTest(subscription, buildTestPayload({ receiver: subscription.id, at: now, externalUrl: this.deps.options.publicUrl() }), now);
    this.dispatcher.kick();
    return delivery;
  }

  /** Deletes a subscription; its pending deliveries go dead with the reason, so none is silently dropped. */
  deleteSubscription(id: string): boolean {
    const db = this.db as Database.Database;
    return db.transaction(() => {
      this.outbox.abandon(id, 'subscription deleted', this.now());
      return this.subscriptions.delete(id);
    })();
  }

  /** What the lifecycle ignored, by reason (out-of-order observations and the like), for metrics. */
  counters(): ReturnType<AlertLifecycle['counters']> {
    return this.lifecycle.counters();
  }

  private apply(result: LifecycleResult): void {
    if (result.alerts.length === 0 && result.transitions.length === 0 && result.notifications.length === 0) return;
    const db = this.db;
    if (!db) return;
    const now = this.now();
    let enqueued = 0;
    try {
      db.transaction(() => {
        this.alerts.save(result);
        for (const n of result.notifications) {
          for (const s of this.subscriptions.matching(n)) {
            const body = buildPayload(n, { receiver: s.id, externalUrl: this.deps.options.publicUrl(), stationUrl: (line, station) => `${this.deps.options.publicUrl()}/#station=${encodeURIComponent(`${line}/${station}`)}` });
            if (this.outbox.enqueue(n, s, body, now)) enqueued++;
          }
        }
      })();
    } catch (err) {
      // Nothing of this change reached the database (the transaction rolled back): say so loudly and count it.
      this.stats.saveFailures++;
      this.stats.notificationsNotQueued += result.notifications.length;
      this.log.error({ err, alerts: result.alerts.map((a) => a.id), notifications: result.notifications.length }, 'saving an alert change failed; its notifications are not queued');
      throw err;
    }
    if (enqueued > 0) this.dispatcher.kick();
    for (const alert of result.alerts) {
      for (const listener of this.listeners) {
        try {
          listener(alert);
        } catch (err) {
          this.log.error({ err }, 'alert listener failed');
        }
      }
    }
  }
}
