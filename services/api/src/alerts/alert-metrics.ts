import prom from 'prom-client';

/**
 * Alerting's Prometheus metrics: deliveries by outcome, the outbox by status, open alerts by class and state, and
 * the inputs the lifecycle ignored. Gauges are read when scraped, from the database and the engine.
 */
export class AlertMetrics {
  readonly deliveries: prom.Counter<'outcome'>;

  constructor(
    registry: prom.Registry,
    read: {
      outbox: () => Record<'pending' | 'delivered' | 'dead', number>;
      open: () => { class: string; state: string }[];
      ignored: () => Record<string, number>;
      exported: () => { exported: number; refused: number; failures: number } | undefined;
      failures: () => { saveFailures: number; notificationsNotQueued: number };
    },
  ) {
    this.deliveries = new prom.Counter({
      name: 'linewatch_webhook_attempts_total',
      help: 'Webhook delivery attempts by outcome: delivered, failed (retried later), dead (given up)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    });
    new prom.Gauge({
      name: 'linewatch_webhook_outbox',
      help: 'Deliveries in the outbox by status; dead ones wait for a manual redelivery',
      labelNames: ['status'] as const,
      registers: [registry],
      collect() {
        for (const [status, n] of Object.entries(read.outbox())) this.set({ status }, n);
      },
    });
    new prom.Gauge({
      name: 'linewatch_alerts_open',
      help: 'Unresolved alerts by class and state',
      labelNames: ['class', 'state'] as const,
      registers: [registry],
      collect() {
        this.reset();
        const counts = new Map<string, number>();
        for (const a of read.open()) counts.set(`${a.class}|${a.state}`, (counts.get(`${a.class}|${a.state}`) ?? 0) + 1);
        for (const [key, n] of counts) {
          const [cls = '', state = ''] = key.split('|');
          this.set({ class: cls, state }, n);
        }
      },
    });
    new prom.Gauge({
      name: 'linewatch_alert_inputs_ignored',
      help: 'Observations the alert lifecycle ignored since start, by reason (out of order, episode id taken, ...)',
      labelNames: ['reason'] as const,
      registers: [registry],
      collect() {
        for (const [reason, n] of Object.entries(read.ignored())) this.set({ reason }, n);
      },
    });
    new prom.Gauge({
      name: 'linewatch_alert_save_failures',
      help: 'Alert changes the database refused since start (saveFailures), and the notifications they would have queued',
      labelNames: ['kind'] as const,
      registers: [registry],
      collect() {
        for (const [kind, n] of Object.entries(read.failures())) this.set({ kind }, n);
      },
    });
    new prom.Gauge({
      name: 'linewatch_alert_events_export',
      help: 'Alert transitions exported to the store since start: exported, refused (too old), failures (rounds retried)',
      labelNames: ['kind'] as const,
      registers: [registry],
      collect() {
        const s = read.exported();
        if (s) for (const [kind, n] of Object.entries(s)) this.set({ kind }, n);
      },
    });
  }
}
