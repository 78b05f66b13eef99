/**
 * A dispatcher in a process of its own, for the kill -9 test: `node --import tsx dispatcher-process.test-support.ts
 * <db file>` with the subscription as JSON in SUBSCRIPTION. It sends until it is killed and prints `started`.
 */
import Database from 'better-sqlite3';
import pino from 'pino';
import type { Subscription } from '../alerts/types.js';
import { WebhookDispatcher } from './dispatcher.js';
import { Outbox } from './outbox.js';

const file = process.argv[2];
if (!file || !process.env.SUBSCRIPTION) throw new Error('usage: dispatcher-process <db file>, SUBSCRIPTION in the environment');
const subscription = JSON.parse(process.env.SUBSCRIPTION) as Subscription;
const db = new Database(file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
const dispatcher = new WebhookDispatcher({
  outbox: new Outbox(db),
  subscription: (id) => (id === subscription.id ? subscription : undefined),
  logger: pino({ level: 'silent' }),
  options: { pollMs: 10 },
});
dispatcher.start();
process.stdout.write('started\n');
