import type Database from 'better-sqlite3';
import type { Notification, Subscription } from '../alerts/types.js';
import { WebhookDispatcher, type DispatcherOptions } from './dispatcher.js';
import { capturedLogger, tempDatabase } from './fixtures.test-support.js';
import { deliveryId, Outbox } from './outbox.js';
import { buildPayload } from './payload.js';
import type { ReceivedRequest } from './receiver.test-support.js';

export const stationUrl = (line: string, station: string): string => `https://linewatch.example/lines/${line}/stations/${station}`;

/** A dispatcher over a real SQLite file, with its logs, metrics and (optionally) a clock the test moves. */
export interface Harness {
  db: Database.Database;
  outbox: Outbox;
  dispatcher: WebhookDispatcher;
  subscriptions: Map<string, Subscription>;
  logs: string[];
  metrics: { delivered: number; failed: number; dead: number };
  clock: { now: number };
  enqueue(n: Notification, s: Subscription): string;
  /** A new Outbox and dispatcher on the same file, as after a restart. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export function harness(options: Partial<DispatcherOptions>, opts: { manualClockFrom?: number } = {}): Harness {
  const temp = tempDatabase('lw-webhooks-');
  const { logger, lines } = capturedLogger();
  const subscriptions = new Map<string, Subscription>();
  const metrics = { delivered: 0, failed: 0, dead: 0 };
  const clock = { now: opts.manualClockFrom ?? 0 };
  const now = opts.manualClockFrom === undefined ? Date.now : () => clock.now;
  const build = (db: Database.Database): { outbox: Outbox; dispatcher: WebhookDispatcher } => {
    const outbox = new Outbox(db);
    const dispatcher = new WebhookDispatcher({
      outbox,
      subscription: (id) => subscriptions.get(id),
      logger,
      options,
      now,
      metrics: { delivered: () => metrics.delivered++, failed: () => metrics.failed++, dead: () => metrics.dead++ },
    });
    return { outbox, dispatcher };
  };
  const db = temp.open();
  const h: Harness = {
    db,
    ...build(db),
    subscriptions,
    logs: lines,
    metrics,
    clock,
    enqueue(n, s) {
      h.outbox.enqueue(n, s, buildPayload(n, { receiver: s.id, stationUrl }), now());
      h.dispatcher.kick();
      return deliveryId(n.id, s.id);
    },
    async restart() {
      await h.dispatcher.stop();
      h.db.close();
      h.db = temp.open();
      Object.assign(h, build(h.db));
      h.dispatcher.start();
    },
    async close() {
      await h.dispatcher.stop();
      h.db.close();
      temp.remove();
    },
  };
  return h;
}

/** webhook-ids a receiver accepted on one path, first arrival order, and how many arrived more than once. */
export function arrivals(requests: ReceivedRequest[], path: string): { ids: string[]; duplicates: number } {
  const accepted = requests.filter((r) => r.path === path && r.status !== null && r.status >= 200 && r.status < 300);
  const ids = [...new Set(accepted.map((r) => r.headers['webhook-id'] ?? ''))];
  return { ids, duplicates: accepted.length - ids.length };
}
