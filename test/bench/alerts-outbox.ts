import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { BurstIn, BurstJob, BurstOut, BurstSide, Timing } from './alerts-burst.js';
import { BenchChild } from './alerts-ipc.js';
import { quantiles, type Quantiles } from './alerts-latency.js';
import type { ReceiversIn, ReceiversJob, ReceiversOut } from './alerts-receivers.js';
import { reconcile } from './alerts-reconcile.js';
import { round } from './stats.js';

/**
 * The outbox burst: `alerts` new alerts at once, each to `subscriptions` receivers, through the alerting component
 * in a child process (alerts-burst.ts) to receivers in another (alerts-receivers.ts). Every webhook-id the outbox
 * holds is checked against what the receivers got.
 */
export interface BurstParams {
  alerts: number;
  subscriptions: number;
  concurrency: number;
  batch: number;
  /** From the first enqueue: how long the deliveries may take before the phase stops and counts what is left. */
  drainMaxMs: number;
  /** Extra node flags for the burst process (`--cpu-prof`). */
  execArgv: string[];
}

export interface BurstResult {
  concurrency: number;
  alerts: number;
  expected: number;
  enqueueS: number;
  alertsPerS: number;
  enqueuesPerS: number;
  /** Every delivery arrived before drainMaxMs. */
  drained: boolean;
  /** First enqueue → the last first arrival (all of them when drained). */
  deliverS: number;
  deliveriesPerS: number;
  received: number;
  unique: number;
  duplicates: number;
  /** Never enqueued, or marked delivered in the outbox but never received (see alerts-reconcile.ts). */
  lost: number;
  /** Still pending in the outbox when the phase stopped: durable and still to be sent, not lost. */
  pendingAtStop: number;
  dead: number;
  /** Received webhook-ids the outbox does not hold (must be 0). */
  unknown: number;
  enqueueToArrivalMs: Quantiles;
  rssBeforeMiB: number;
  rssPeakMiB: number;
  /** CPU of the burst process over the phase, % of one core. */
  cpuPct: number;
  loopDelayMs: BurstSide['loopDelayMs'];
  due: Timing;
  recordAttempt: Timing;
  enqueue: Timing;
  alertsFiring: number;
  busListenerErrors: number;
  lifecycleIgnored: Record<string, number>;
  malformed: number;
}

export async function runBurst(p: BurstParams): Promise<BurstResult> {
  const expected = p.alerts * p.subscriptions;
  const dir = mkdtempSync(path.join(tmpdir(), 'lw-bench-outbox-'));
  const receivers = new BenchChild<ReceiversIn, ReceiversOut>('alerts-receivers.ts', { receivers: p.subscriptions } satisfies ReceiversJob);
  let burst: BenchChild<BurstIn, BurstOut> | undefined;
  try {
    const { urls } = await receivers.next('ready', 30_000);
    receivers.send({ type: 'expect', unique: expected });
    const job: BurstJob = { receiverUrls: urls, alerts: p.alerts, concurrency: p.concurrency, dbPath: path.join(dir, 'alerts.sqlite'), batch: p.batch };
    burst = new BenchChild<BurstIn, BurstOut>('alerts-burst.ts', job, p.execArgv);
    await burst.next('ready', 30_000);
    burst.send({ type: 'go' });
    const enqueued = await burst.next('enqueued', p.drainMaxMs);
    const left = Math.max(1, enqueued.startAt + p.drainMaxMs - Date.now());
    const complete = await receivers.next('complete', left).catch(() => undefined);
    burst.send({ type: 'finish' });
    const { result: side } = await burst.next('finished', 60_000);
    receivers.send({ type: 'collect' });
    const { arrivals } = await receivers.next('arrivals', 60_000);

    const checked = reconcile(expected, side.deliveries, arrivals);
    const lastArrival = Number.isNaN(checked.lastArrivalAt) ? side.enqueueStartAt : checked.lastArrivalAt;
    const deliverS = (lastArrival - side.enqueueStartAt) / 1000;
    const enqueueS = (side.enqueueEndAt - side.enqueueStartAt) / 1000;
    const wallS = (side.stoppedAt - side.enqueueStartAt) / 1000;
    return {
      concurrency: p.concurrency, alerts: p.alerts, expected,
      enqueueS: round(enqueueS, 2), alertsPerS: round(p.alerts / enqueueS, 0), enqueuesPerS: round(side.deliveries.id.length / enqueueS, 0),
      drained: complete !== undefined, deliverS: round(deliverS, 2), deliveriesPerS: round(checked.unique / deliverS, 0),
      received: arrivals.id.length, unique: checked.unique, duplicates: checked.duplicates,
      lost: checked.lost, pendingAtStop: checked.pending, dead: checked.dead, unknown: checked.unknown,
      enqueueToArrivalMs: quantiles(checked.latenciesMs),
      rssBeforeMiB: round(side.rssBeforeMiB), rssPeakMiB: round(side.rssPeakMiB),
      cpuPct: round(((side.cpuUserS + side.cpuSystemS) / wallS) * 100, 0),
      loopDelayMs: side.loopDelayMs, due: side.due, recordAttempt: side.recordAttempt, enqueue: side.enqueue,
      alertsFiring: side.alertsFiring, busListenerErrors: side.busListenerErrors, lifecycleIgnored: side.lifecycleIgnored,
      malformed: arrivals.malformed,
    };
  } finally {
    await burst?.stop();
    await receivers.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
