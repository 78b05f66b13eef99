import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import Database from 'better-sqlite3';
import pino from 'pino';
import { Alerting } from '../../services/api/src/alerts/alerting.js';
import { TypedBus, type LineEvents } from '../../services/api/src/line-events.js';
import { Outbox } from '../../services/api/src/webhooks/outbox.js';
import { childSide } from './alerts-ipc.js';
import { alarmStatus, benchStation } from './alerts-messages.js';

/**
 * Child process: the outbox burst, on the API's own alerting component (`Alerting`: observation feed → lifecycle
 * → AlertDb + Outbox in one SQLite transaction per change → WebhookDispatcher), in a process of its own so its
 * memory and event loop are measured alone. Only the broker hop is left out: statuses go onto the same typed bus
 * LineState would put them on after validating them.
 */
export interface BurstJob {
  receiverUrls: string[];
  alerts: number;
  concurrency: number;
  dbPath: string;
  /** Statuses emitted per event-loop turn: what one socket read of a burst from the broker would carry. */
  batch: number;
}

/** Calls and time spent in one method, measured by wrapping it (the code under test is not changed). */
export interface Timing {
  calls: number;
  totalMs: number;
  maxMs: number;
}

export interface BurstSide {
  enqueueStartAt: number;
  enqueueEndAt: number;
  /** When the alerting component had stopped: the end of the CPU measurement. */
  stoppedAt: number;
  /** Every row of the outbox once the dispatcher stopped, as columns. */
  deliveries: { id: string[]; createdAt: number[]; status: string[]; attempts: number[] };
  alertsFiring: number;
  busListenerErrors: number;
  lifecycleIgnored: Record<string, number>;
  rssBeforeMiB: number;
  /** VmHWM of this process: the peak, start-up included. */
  rssPeakMiB: number;
  cpuUserS: number;
  cpuSystemS: number;
  /** Event-loop delay while the burst ran (enqueue and delivery), ms. */
  loopDelayMs: { p50: number; p99: number; max: number };
  /** Outbox.due is the dispatcher's look for each subscription's next delivery; recordAttempt writes an outcome. */
  due: Timing;
  recordAttempt: Timing;
  enqueue: Timing;
}

export type BurstIn = { type: 'go' } | { type: 'finish' };
export type BurstOut = { type: 'ready' } | { type: 'enqueued'; startAt: number; endAt: number } | { type: 'finished'; result: BurstSide };

const side = childSide<BurstIn, BurstOut>();
const SECRET = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;
const LINE = 'bench-burst';

function timeMethod<T extends object>(proto: T, name: keyof T & string): Timing {
  const timing: Timing = { calls: 0, totalMs: 0, maxMs: 0 };
  const original = proto[name] as (...args: unknown[]) => unknown;
  if (typeof original !== 'function') throw new Error(`${name} is not a method`);
  (proto as Record<string, unknown>)[name] = function timed(this: unknown, ...args: unknown[]): unknown {
    const start = performance.now();
    try {
      return original.apply(this, args);
    } finally {
      const ms = performance.now() - start;
      timing.calls++;
      timing.totalMs += ms;
      if (ms > timing.maxMs) timing.maxMs = ms;
    }
  };
  return timing;
}

function procMiB(field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

async function main(): Promise<void> {
  const job = side.job<BurstJob>();
  const due = timeMethod(Outbox.prototype, 'due');
  const recordAttempt = timeMethod(Outbox.prototype, 'recordAttempt');
  const enqueue = timeMethod(Outbox.prototype, 'enqueue');
  const logger = pino({ level: 'warn' }, pino.destination(2));
  let busListenerErrors = 0;
  const bus = new TypedBus<LineEvents>((event, err) => {
    busListenerErrors++;
    logger.error({ err, event }, 'bus listener failed');
  });
  const alerting = new Alerting({
    options: {
      dbPath: job.dbPath,
      webhooksFile: '',
      publicUrl: () => 'http://127.0.0.1:8080',
      // The API's defaults except the for-duration: 0 fires on the first ALARM, so each status is one alert.
      rules: { forMs: 0, clearHoldMs: 30_000, clearRatio: 0.9, flapEpisodes: 4, flapWindowMs: 600_000 },
      dispatcher: { concurrency: job.concurrency },
      tickMs: 1_000,
    },
    bus,
    logger,
  });
  alerting.start();
  for (const url of job.receiverUrls) alerting.subscriptionDb.create({ url, secret: SECRET }, Date.now());
  const rssBeforeMiB = procMiB('VmRSS');

  const go = new Promise<void>((resolve) => side.on((m) => m.type === 'go' && resolve()));
  const finish = new Promise<void>((resolve) => side.on((m) => m.type === 'finish' && resolve()));
  await side.send({ type: 'ready' });
  await go;

  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const cpu0 = process.cpuUsage();
  const enqueueStartAt = Date.now();
  for (let i = 0; i < job.alerts; i++) {
    bus.emit('status', alarmStatus(LINE, benchStation(i), Date.now()));
    if ((i + 1) % job.batch === 0) await nextTurn();
  }
  const enqueueEndAt = Date.now();
  await side.send({ type: 'enqueued', startAt: enqueueStartAt, endAt: enqueueEndAt });

  await finish;
  await alerting.stop();
  const stoppedAt = Date.now();
  loop.disable();
  const cpu = process.cpuUsage(cpu0);
  const db = new Database(job.dbPath, { readonly: true });
  const rows = db.prepare('SELECT id, created_at, status, attempts FROM webhook_delivery ORDER BY seq').all() as {
    id: string; created_at: number; status: string; attempts: number;
  }[];
  const alertsFiring = (db.prepare(`SELECT COUNT(*) AS n FROM alert WHERE state = 'firing'`).get() as { n: number }).n;
  db.close();
  const ms = (ns: number): number => ns / 1e6;
  await side.send({
    type: 'finished',
    result: {
      enqueueStartAt, enqueueEndAt, stoppedAt,
      deliveries: { id: rows.map((r) => r.id), createdAt: rows.map((r) => r.created_at), status: rows.map((r) => r.status), attempts: rows.map((r) => r.attempts) },
      alertsFiring, busListenerErrors, lifecycleIgnored: { ...alerting.counters() },
      rssBeforeMiB, rssPeakMiB: procMiB('VmHWM'), cpuUserS: cpu.user / 1e6, cpuSystemS: cpu.system / 1e6,
      loopDelayMs: { p50: ms(loop.percentile(50)), p99: ms(loop.percentile(99)), max: ms(loop.max) },
      due, recordAttempt, enqueue,
    },
  });
  process.exit(0);
}

main().catch((err: unknown) => {
  void side.send({ type: 'error', message: String((err as Error)?.stack ?? err) }).then(() => process.exit(1));
});
