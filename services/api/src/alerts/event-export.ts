import type Database from 'better-sqlite3';
import type { AlertEventPoint, Store } from '@linewatch/store';
import type { Logger } from 'pino';
import type { AlertDb } from './alert-db.js';
import type { AlertTransition } from './types.js';

/** Transitions exported per round; a full page is followed by another round at once. */
const PAGE = 5_000;

/**
 * Writes the alert history to the system of record (InfluxDB, or the embedded store) as `alert_event`s. The
 * SQLite alert database stays the source of truth: a cursor (the `at` of the last exported transition) is kept
 * next to it, so an outage of the store only delays the export, and a restart resumes where it stopped. Rounds
 * re-read the cursor's own millisecond; the store keys events by (alert, at, state), so that rewrites them.
 */
export class AlertEventExporter {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly log: Logger;
  readonly stats = { exported: 0, refused: 0, failures: 0 };

  constructor(
    private readonly deps: { db: Database.Database; alerts: AlertDb; store: Store; logger: Logger; everyMs: number; now?: () => number },
  ) {
    this.log = deps.logger.child({ module: 'alert-export' });
    deps.db.exec('CREATE TABLE IF NOT EXISTS alert_event_export (id INTEGER PRIMARY KEY CHECK (id = 1), cursor INTEGER NOT NULL)');
  }

  start(): void {
    this.timer = setInterval(() => void this.round(), this.deps.everyMs);
    this.timer.unref();
  }

  /** Stops the timer and runs one last round, so what was decided before a clean shutdown is exported. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
    await this.round();
  }

  /** One export round (never throws: a failure is logged, counted and retried next round). */
  round(): Promise<void> {
    this.running ??= this.exportAll().finally(() => (this.running = undefined));
    return this.running;
  }

  private cursor(): number {
    const row = this.deps.db.prepare('SELECT cursor FROM alert_event_export WHERE id = 1').get() as { cursor: number } | undefined;
    return row?.cursor ?? 0;
  }

  private async exportAll(): Promise<void> {
    try {
      for (let more = true; more; ) {
        const from = this.cursor();
        const to = (this.deps.now ?? Date.now)() + 1;
        const page = this.deps.alerts.transitions({ from, to, limit: PAGE });
        if (page.length === 0) return;
        const result = await this.deps.store.writeAlertEvents(page.map((t) => this.event(t)));
        this.stats.exported += page.length;
        this.stats.refused += result.refused;
        const last = (page.at(-1) as AlertTransition).at;
        // A full page that did not move the cursor (thousands of transitions in one ms) must still move on.
        const next = page.length === PAGE && last === from ? last + 1 : last;
        this.deps.db.prepare('INSERT INTO alert_event_export (id, cursor) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET cursor = excluded.cursor').run(next);
        more = page.length === PAGE;
      }
    } catch (err) {
      this.stats.failures++;
      this.log.warn({ err }, 'exporting alert events to the store failed; retrying next round');
    }
  }

  private event(t: AlertTransition): AlertEventPoint {
    const alert = this.deps.alerts.alert(t.alertId);
    const [line = '', station = '', source = ''] = t.key.split('/');
    return {
      alertId: t.alertId, line, station, source, class: alert?.class ?? 'process', from: t.from, to: t.to, severity: t.severity,
      at: t.at, reason: t.reason, replay: alert?.replay ?? false,
    };
  }
}
