import type { Anomaly, WaferVerdict } from '@linewatch/protocol';
import type { ReadingPoint, ScorePoint, StatePoint, Store, WriteBatch, WriteResult } from '@linewatch/store';
import type { Logger } from 'pino';
import type { DetectorMetrics } from './metrics.js';

export interface StoreWriterOptions {
  /** Most points per store.write(). */
  batchMax: number;
  /** Longest wait before a partial batch is written. */
  flushMs: number;
  /** Points at which `full` turns true (ingest then stops acking); at twice this the oldest points are dropped. */
  bufferMax: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** How long stop() keeps retrying a failing store before counting what is left as dropped. */
  stopTimeoutMs?: number;
}

/** Kinds of points, as the `kind` label of linewatch_points_dropped_total names them. */
type PointKind = 'reading' | 'score' | 'anomaly' | 'wafer' | 'state';

/**
 * Batches readings, scores, anomalies, wafer verdicts and equipment-state changes into store writes. One write is
 * in flight at a time, so points reach the store in arrival order. A failed write keeps its points at the head of
 * the buffer and is retried with capped exponential backoff; points are only ever lost past the hard limit or when
 * stop() gives up, and then they are counted in linewatch_points_dropped_total and logged at error.
 */
export class StoreWriter {
  private readings: ReadingPoint[] = [];
  private scores: ScorePoint[] = [];
  private anomalies: Anomaly[] = [];
  private wafers: WaferVerdict[] = [];
  private states: StatePoint[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  /** Set at the shutdown deadline: a write still in flight then is already counted as dropped. */
  private abandoned = false;
  private failures = 0;
  private stopping = false;
  private lastWriteOk = true;
  private readonly waiters: (() => void)[] = [];
  private readonly logger: Logger;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;

  constructor(
    private readonly deps: { store: Store; metrics: DetectorMetrics; logger: Logger; options: StoreWriterOptions },
  ) {
    this.logger = deps.logger.child({ module: 'store-writer' });
    this.retryBaseMs = deps.options.retryBaseMs ?? 100;
    this.retryMaxMs = deps.options.retryMaxMs ?? 10_000;
  }

  get size(): number {
    return this.readings.length + this.scores.length + this.anomalies.length + this.wafers.length + this.states.length;
  }

  /** True while the buffer is at its soft limit: ingest should wait (see `waitForRoom`). */
  get full(): boolean {
    return this.size >= this.deps.options.bufferMax;
  }

  /** Whether the latest store write succeeded (for /readyz). */
  get healthy(): boolean {
    return this.lastWriteOk;
  }

  /** Resolves once the buffer is below its soft limit. */
  waitForRoom(): Promise<void> {
    if (!this.full) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  addReading(point: ReadingPoint): void {
    this.deps.metrics.stats.readingsAccepted++;
    this.readings.push(point);
    this.added();
  }

  addScore(point: ScorePoint): void {
    this.scores.push(point);
    this.added();
  }

  addAnomaly(anomaly: Anomaly): void {
    this.anomalies.push(anomaly);
    this.added();
  }

  /** Every verdict, ok and baselining too: the store keeps the wafer history (a fault also comes as an anomaly). */
  addWaferVerdict(verdict: WaferVerdict): void {
    this.wafers.push(verdict);
    this.added();
  }

  /** A state change (a state message's `since`); a retained message delivered again is keyed to overwrite itself. */
  addState(point: StatePoint): void {
    this.states.push(point);
    this.added();
  }

  start(): void {
    this.stopping = false;
  }

  /** Writes everything buffered; after `stopTimeoutMs` of failures the rest is counted as dropped. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const deadline = Date.now() + (this.deps.options.stopTimeoutMs ?? 10_000);
    const remaining = (): number => Math.max(0, deadline - Date.now());
    while (this.size > 0 || this.writing) {
      if (!this.writing) {
        if (remaining() === 0) {
          this.drop(this.size, 'store unavailable at shutdown');
          break;
        }
        this.writing = this.writeOnce().then(async (ok) => {
          if (!ok) await sleep(Math.min(this.backoffMs(), remaining()));
          this.writing = undefined;
        });
      }
      // Every write, ours or one already running, is raced against the deadline: a store that hangs must not
      // hold shutdown past it (an orchestrator kills us soon after).
      if (!(await finishesBefore(this.writing, remaining()))) {
        // The write in flight is abandoned: its points count as dropped now, and not as written if it lands later.
        this.abandoned = true;
        this.drop(this.size, 'store write still in flight at the shutdown deadline');
        break;
      }
    }
    this.updateGauge();
  }

  private added(): void {
    const { bufferMax, batchMax, flushMs } = this.deps.options;
    // The soft limit normally holds via ingest backpressure; this hard limit only guards against a producer that ignores it.
    if (this.size > bufferMax * 2) this.drop(this.size - bufferMax * 2, 'write buffer over its hard limit');
    this.updateGauge();
    if (this.stopping) return;
    if (this.size >= batchMax && !this.writing && this.failures === 0) this.kick();
    else this.timer ??= setTimeout(() => this.kick(), flushMs);
  }

  private kick(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.writing || this.size === 0) return;
    this.writing = this.writeOnce()
      .then((ok) => {
        this.writing = undefined;
        // A flush timer armed while this write was in flight would cut the backoff short.
        if (this.timer) clearTimeout(this.timer);
        this.timer = undefined;
        if (this.stopping || this.size === 0) return;
        if (!ok) this.timer = setTimeout(() => this.kick(), this.backoffMs());
        else if (this.size >= this.deps.options.batchMax) this.kick();
        else this.timer = setTimeout(() => this.kick(), this.deps.options.flushMs);
      });
  }

  private backoffMs(): number {
    return Math.min(this.retryMaxMs, this.retryBaseMs * 2 ** Math.max(0, this.failures - 1));
  }

  /** Writes the head of the buffer; never throws. The points leave the buffer only after the store accepted them. */
  private async writeOnce(): Promise<boolean> {
    // Split a full batch in proportion to what is buffered, so a backlog of readings cannot starve scores.
    const buffers = [this.readings, this.scores, this.anomalies, this.wafers, this.states] as const;
    const max = this.deps.options.batchMax;
    const total = this.size;
    const taken = buffers.map((b) => (total <= max ? b.length : Math.floor((max * b.length) / total)));
    let spare = Math.min(max, total) - taken.reduce((a, b) => a + b, 0);
    buffers.forEach((b, i) => {
      const k = Math.min(spare, b.length - (taken[i] as number));
      spare -= k;
      taken[i] = (taken[i] as number) + k;
    });
    const [nReadings, nScores, nAnomalies, nWafers, nStates] = taken as [number, number, number, number, number];
    const batch: WriteBatch = {
      readings: this.readings.slice(0, nReadings),
      scores: this.scores.slice(0, nScores),
      anomalies: this.anomalies.slice(0, nAnomalies),
      wafers: this.wafers.slice(0, nWafers),
      ...(nStates > 0 ? { states: this.states.slice(0, nStates) } : {}),
    };
    const { metrics } = this.deps;
    const end = metrics.writeSeconds.startTimer();
    // Every WriteResult is one; a store that refuses state changes counts them in `rejected.states`.
    let result: WriteResult | void;
    try {
      result = await this.deps.store.write(batch);
    } catch (err) {
      end();
      this.failures++;
      this.lastWriteOk = false;
      metrics.writeErrors.inc();
      metrics.stats.writeErrors++;
      this.logger.warn({ err, points: nReadings + nScores + nAnomalies + nWafers + nStates, failures: this.failures, retryInMs: this.backoffMs() }, 'store write failed; will retry');
      return false;
    }
    end();
    if (this.abandoned) return true;
    if (this.failures > 0) this.logger.info({ failures: this.failures }, 'store write recovered');
    this.failures = 0;
    this.lastWriteOk = true;
    this.readings.splice(0, nReadings);
    this.scores.splice(0, nScores);
    this.anomalies.splice(0, nAnomalies);
    this.wafers.splice(0, nWafers);
    this.states.splice(0, nStates);
    // Points the store refused for good were not written: they count as dropped, never as written.
    const refused = { readings: 0, scores: 0, anomalies: 0, wafers: 0, states: 0, reason: '', ...result?.rejected };
    const refusedStates = refused.states ?? 0;
    if (refused.readings + refused.scores + refused.anomalies + refused.wafers + refusedStates > 0) {
      const counts = { reading: refused.readings, score: refused.scores, anomaly: refused.anomalies, wafer: refused.wafers, state: refusedStates };
      this.countDropped(counts, `store refused: ${refused.reason}`);
    }
    metrics.readingsWritten.inc(nReadings - refused.readings);
    metrics.scoresWritten.inc(nScores - refused.scores);
    metrics.stats.readingsWritten += nReadings - refused.readings;
    metrics.stats.scoresWritten += nScores - refused.scores;
    metrics.stats.anomaliesWritten += nAnomalies - refused.anomalies;
    metrics.waferVerdictsWritten.inc(nWafers - refused.wafers);
    metrics.stats.waferVerdictsWritten += nWafers - refused.wafers;
    metrics.statesWritten.inc(nStates - refusedStates);
    metrics.stats.statesWritten += nStates - refusedStates;
    this.updateGauge();
    return true;
  }

  /**
   * Drops the `n` newest points, readings last: they are the system of record, scores and wafer verdicts can be
   * recomputed from them. State changes go just before readings: nothing recomputes them, and they are few.
   * Newest, because the head of the buffer may be in flight to the store right now.
   */
  private drop(n: number, why: string): void {
    const take = (list: unknown[]): number => {
      const k = Math.min(n, list.length);
      list.splice(list.length - k, k);
      n -= k;
      return k;
    };
    const score = take(this.scores);
    const wafer = take(this.wafers);
    const anomaly = take(this.anomalies);
    const state = take(this.states);
    const reading = take(this.readings);
    this.countDropped({ reading, score, anomaly, wafer, state }, why);
  }

  /** Counts and logs points that will never reach the store: nothing is lost without a counter. */
  private countDropped(counts: Record<PointKind, number>, why: string): void {
    const { metrics } = this.deps;
    for (const kind of ['reading', 'score', 'anomaly', 'wafer', 'state'] as const) {
      const k = counts[kind];
      if (k === 0) continue;
      metrics.pointsDropped.inc({ kind }, k);
      metrics.stats.dropped += k;
      if (kind === 'reading') metrics.stats.readingsDropped += k;
      if (kind === 'wafer') metrics.stats.waferVerdictsDropped += k;
      if (kind === 'state') metrics.stats.statesDropped += k;
    }
    const { reading: readings, score: scores, anomaly: anomalies, wafer: wafers, state: states } = counts;
    this.logger.error({ why, readings, scores, anomalies, wafers, states }, 'points dropped before reaching the store');
  }

  private updateGauge(): void {
    this.deps.metrics.writeBuffer.set(this.size);
    this.deps.metrics.stats.readingsBuffered = this.readings.length;
    if (!this.full) for (const wake of this.waiters.splice(0)) wake();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** True when `work` settles within `ms`; the timer is cleared either way, so it never holds the process open. */
async function finishesBefore(work: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([work.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
