import type { Anomaly, WaferVerdict } from '@linewatch/protocol';
import type { ReadingPoint, ScorePoint, StatePoint, Store, WriteBatch, WriteResult } from '@linewatch/store';
import type { Logger } from 'pino';
import { cappedBackoffMs } from '@linewatch/protocol';
import { pointsIn, type Journal } from './journal.js';
import type { DetectorMetrics } from './metrics.js';

export interface StoreWriterOptions {
  /** Most points per store.write(). */
  batchMax: number;
  /** Longest wait before a partial batch is written. */
  flushMs: number;
  /** Points at which `full` turns true (ingest then stops acking, or the buffer goes to the journal); at twice this the newest points are dropped. */
  bufferMax: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** How long stop() keeps trying a failing store before the rest goes to the journal, or without one, counts as dropped. */
  stopTimeoutMs?: number;
  /**
   * A store write not answered by then counts as failed (and its batch goes to the journal): a store that hangs
   * rather than refuses must not hold every acknowledgement, and so the line's intake, for minutes.
   */
  writeTimeoutMs?: number;
  /**
   * The on-disk journal for outages. With it, a failed write, and everything after it until the journal is
   * replayed, goes to disk: memory stays small and every point is durable within one flush. Without it, a failed
   * write is retried from memory and ingest stops acking once the buffer is full.
   */
  journal?: Journal | undefined;
}

/** Kinds of points, as the `kind` label of linewatch_points_dropped_total names them. */
type PointKind = 'reading' | 'score' | 'anomaly' | 'wafer' | 'state';
const KINDS = 5;
type Counts = [number, number, number, number, number];

/** How the store looks from the writer, for /readyz and the service-health message. */
export interface StorageHealth {
  state: 'ok' | 'degraded';
  /** The latest store write failed. */
  failing: boolean;
  /** Points in memory, not yet written or journaled. */
  buffered: number;
  journalBytes: number;
  journalPoints: number;
  /** Points lost so far because the journal's disk budget was spent (also in linewatch_points_dropped_total). */
  droppedJournalFull: number;
  /** Points were dropped for that within the last minute: it is happening now, not only once. */
  dropping: boolean;
}

/** How long after the latest drop (journal full) the storage still counts as dropping. */
const DROPPING_FOR_MS = 60_000;
/** While writes fail, the store is pinged this often: once it answers, the next write is tried at once, not after the backoff. */
const PING_EVERY_MS = 1_000;

interface Waiter {
  marks: Counts;
  resolve: () => void;
}

/**
 * Batches readings, scores, anomalies, wafer verdicts and equipment-state changes into store writes.
 *
 * One loop does one thing at a time (a store write, a journal append or a replay), so points reach the store in
 * arrival order. A failed write goes to the journal, and so does everything after it until the journal has been
 * replayed, oldest first, with capped exponential backoff between attempts. Points are only lost when the
 * journal's disk budget is spent, past the hard memory limit, or when stop() can neither write nor journal them;
 * then they are counted in linewatch_points_dropped_total and logged at error.
 *
 * `durable()` is what lets ingest acknowledge a message only once its points are safe: it resolves when every
 * point added before the call has been written, journaled or counted as dropped.
 */
export class StoreWriter {
  /** One FIFO per kind, in PointKind order; points only ever leave a FIFO from its head, except past the hard limit. */
  private readonly buffers: [ReadingPoint[], ScorePoint[], Anomaly[], WaferVerdict[], StatePoint[]] = [[], [], [], [], []];
  /** Points that have left each FIFO's head; a point's index is `removed + its position`. */
  private readonly removed: Counts = [0, 0, 0, 0, 0];
  private waiters: Waiter[] = [];
  private roomWaiters: (() => void)[] = [];
  private failures = 0;
  private retryAt = 0;
  /** When the oldest point in memory arrived; flushMs after it, the buffer is due. */
  private firstAddedAt = 0;
  private urgent = false;
  private stopping = false;
  /** Set at the shutdown deadline: a write still in flight then changes nothing when it lands. */
  private abandoned = false;
  private droppedJournalFull = 0;
  private lastJournalDropAt = Number.NEGATIVE_INFINITY;
  /** Points in the buffers (their lengths summed, kept as they change: read on every point). */
  private count = 0;
  /** What the loop is awaiting: stop() must not touch the journal while the loop is inside it. */
  private busy: 'store' | 'journal' | undefined;
  private pinger: NodeJS.Timeout | undefined;
  private starting: Promise<void> | undefined;
  private loopDone: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private readonly logger: Logger;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly journal: Journal | undefined;

  constructor(
    private readonly deps: { store: Store; metrics: DetectorMetrics; logger: Logger; options: StoreWriterOptions },
  ) {
    this.logger = deps.logger.child({ module: 'store-writer' });
    this.retryBaseMs = deps.options.retryBaseMs ?? 100;
    this.retryMaxMs = deps.options.retryMaxMs ?? 10_000;
    this.journal = deps.options.journal;
  }

  get size(): number {
    return this.count;
  }

  /** True while the buffer is at its soft limit: ingest should wait (see `waitForRoom`). */
  get full(): boolean {
    return this.size >= this.deps.options.bufferMax;
  }

  get storage(): StorageHealth {
    const failing = this.failures > 0;
    const journalPoints = this.journal?.points ?? 0;
    const journalBytes = this.journal?.bytes ?? 0;
    const degraded = failing || journalPoints > 0 || this.full;
    const dropping = Date.now() - this.lastJournalDropAt < DROPPING_FOR_MS;
    return {
      state: degraded || dropping ? 'degraded' : 'ok', failing, buffered: this.size, journalBytes, journalPoints,
      droppedJournalFull: this.droppedJournalFull, dropping,
    };
  }

  /** Resolves once the buffer is below its soft limit. */
  waitForRoom(): Promise<void> {
    if (!this.full) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  /**
   * Resolves once every point added before this call has been written, journaled, or dropped and counted.
   * `urgent` writes the buffer now instead of at the next flush: someone is waiting on it.
   */
  durable(urgent = false): Promise<void> {
    const marks = this.buffers.map((b, i) => this.removed[i]! + b.length) as Counts;
    if (this.reached(marks)) return Promise.resolve();
    if (urgent && !this.urgent) {
      this.urgent = true;
      this.wakeUp?.();
    }
    return new Promise((resolve) => this.waiters.push({ marks, resolve }));
  }

  addReading(point: ReadingPoint): void {
    this.deps.metrics.stats.readingsAccepted++;
    this.add(0, point);
  }

  addScore(point: ScorePoint): void {
    this.add(1, point);
  }

  addAnomaly(anomaly: Anomaly): void {
    this.add(2, anomaly);
  }

  /** Every verdict, ok and baselining too: the store keeps the wafer history (a fault also comes as an anomaly). */
  addWaferVerdict(verdict: WaferVerdict): void {
    this.add(3, verdict);
  }

  /** A state change (a state message's `since`); a retained message delivered again is keyed to overwrite itself. */
  addState(point: StatePoint): void {
    this.add(4, point);
  }

  /** Opens the journal (what an earlier run left in it is replayed first) and starts the write loop. */
  start(): Promise<void> {
    this.starting ??= (async () => {
      if (this.journal) {
        await this.journal.open();
        if (!this.journal.empty) {
          this.logger.warn({ dir: this.journal.dir, points: this.journal.points, bytes: this.journal.bytes }, 'journal from an earlier run: replaying it to the store first');
        }
      }
      this.updateGauges();
      this.loopDone = this.loop();
    })();
    return this.starting;
  }

  /**
   * Writes everything buffered. While the store fails, or after `stopTimeoutMs`, the rest goes to the journal;
   * without one it counts as dropped. Returns whether every point was written or journaled.
   */
  async stop(): Promise<boolean> {
    this.stopping = true;
    clearInterval(this.pinger);
    this.pinger = undefined;
    this.wakeUp?.();
    const deadline = Date.now() + (this.deps.options.stopTimeoutMs ?? 10_000);
    const remaining = (): number => Math.max(0, deadline - Date.now());
    // A store that hangs must not hold shutdown past the deadline (an orchestrator kills us soon after).
    if (this.loopDone && !(await finishesBefore(this.loopDone, remaining()))) this.abandoned = true;
    if (this.abandoned && this.busy === 'journal') {
      // The disk stopped answering mid-append: touching the journal now could split a record. Nothing more is
      // journaled or acknowledged; the broker redelivers what is left to the next run.
      this.logger.error({ buffered: this.size }, 'journal still busy at the shutdown deadline; leaving the rest unacknowledged');
      return false;
    }
    const droppedBefore = this.deps.metrics.stats.dropped;
    while (this.size > 0) {
      const storeDown = this.abandoned || this.failures > 0 || (this.journal !== undefined && !this.journal.empty);
      if (this.journal && (storeDown || remaining() === 0)) {
        await this.spill(this.size);
        break;
      }
      if (this.abandoned || remaining() === 0) {
        this.dropNewest(this.size, this.abandoned ? 'store write still in flight at the shutdown deadline' : 'store unavailable at shutdown');
        break;
      }
      const taken = this.takeHead();
      const write = this.write(taken.batch);
      if (!(await finishesBefore(write.then(() => undefined), remaining()))) {
        this.abandoned = true;
        continue;
      }
      if (await write) this.removeHead(taken.counts);
      else if (!this.journal) await sleep(Math.min(this.backoffMs(), remaining()));
    }
    await this.journal?.close();
    this.updateGauges();
    return this.size === 0 && this.deps.metrics.stats.dropped === droppedBefore;
  }

  private add(kind: number, point: unknown): void {
    const { bufferMax, batchMax } = this.deps.options;
    const first = this.count === 0;
    if (first) this.firstAddedAt = Date.now();
    (this.buffers[kind] as unknown[]).push(point);
    this.count++;
    // The soft limit normally holds (ingest backpressure, or the journal); this hard limit only guards memory
    // against a producer that ignores it, or a journal on a disk that stopped answering.
    if (this.count > bufferMax * 2) this.dropNewest(this.count - bufferMax * 2, 'write buffer over its hard limit');
    // Per point, only what is cheap; the rest of the gauges follow each write (updateGauges).
    this.deps.metrics.writeBuffer.set(this.count);
    if (kind === 0) this.deps.metrics.stats.readingsBuffered = this.buffers[0].length;
    // The first point arms the flush timer; a full batch is due now.
    if (first || this.size >= batchMax || this.size >= bufferMax) this.wakeUp?.();
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      await this.idle();
      if (this.stopping) return;
      try {
        await this.step();
      } catch (err) {
        // Whatever failed (a journal read, a closed file), the loop goes on after a backoff: a stopped loop would
        // leave every ack waiting and stall ingest.
        this.failures++;
        this.retryAt = Date.now() + this.backoffMs();
        this.deps.metrics.writeErrors.inc();
        this.deps.metrics.stats.writeErrors++;
        this.logger.error({ err, retryInMs: this.backoffMs() }, 'write loop step failed; retrying');
        this.updateGauges();
      } finally {
        this.busy = undefined;
      }
    }
  }

  /**
   * New batches queue on disk while the journal holds points (they must follow them), and while the store is
   * failing and not yet due for a retry. A failing store with an empty journal (a journal that took nothing, say
   * because it is full) is retried with the buffer itself once the backoff allows.
   */
  private get spilling(): boolean {
    if (!this.journal) return false;
    return !this.journal.empty || (this.failures > 0 && Date.now() < this.retryAt);
  }

  /** Milliseconds until the loop has something to do; Infinity when only a new point can give it work. */
  private nextDelay(): number {
    const now = Date.now();
    let at = Number.POSITIVE_INFINITY;
    const size = this.size;
    if (size > 0) {
      const { batchMax, bufferMax, flushMs } = this.deps.options;
      let due = size >= batchMax || size >= bufferMax || this.urgent ? now : this.firstAddedAt + flushMs;
      // Without a journal a failing store is retried from memory, no sooner than the backoff allows.
      if (!this.journal && this.failures > 0) due = Math.max(due, this.retryAt);
      at = due;
    }
    if (this.journal && !this.journal.empty) at = Math.min(at, this.retryAt);
    return Math.max(0, at - now);
  }

  private idle(): Promise<void> {
    const delay = this.nextDelay();
    if (delay === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = Number.isFinite(delay) ? setTimeout(() => done(), delay) : undefined;
      const done = (): void => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        resolve();
      };
      this.wakeUp = done;
    });
  }

  /** One round: the buffer, if due, to the store or the journal; then, if its backoff allows, one journal batch to the store. */
  private async step(): Promise<void> {
    if (this.size > 0 && this.nextMemoryDue()) {
      if (this.spilling) {
        await this.spill(this.size);
      } else {
        const taken = this.takeHead();
        this.busy = 'store';
        const ok = await this.write(taken.batch);
        this.busy = undefined;
        if (this.abandoned) return;
        if (ok) this.removeHead(taken.counts);
        // The batch that failed goes to disk at once: it is durable, its messages can be acknowledged, and
        // memory stays small however long the outage lasts.
        else if (this.journal) await this.spill(this.size);
      }
      this.firstAddedAt = Date.now();
      if (this.size === 0) this.urgent = false;
    }
    if (this.stopping || !this.journal || this.journal.empty || Date.now() < this.retryAt) return;
    // Replay in batches as large as a write takes: the journal holds the line's small ack groups, and one store
    // write each would never catch up with a line that keeps sending.
    this.busy = 'journal';
    const entry = await this.journal.take(this.deps.options.batchMax);
    this.busy = undefined;
    if (!entry) {
      // Only damaged lines were left; take() has cleared them, and the journal is empty now.
      this.noteCorrupt();
      this.updateGauges();
      return;
    }
    this.busy = 'store';
    const ok = await this.write(entry.batch);
    this.busy = undefined;
    if (!ok || this.abandoned) return;
    this.busy = 'journal';
    await this.journal.advance(entry.entries);
    this.busy = undefined;
    this.noteCorrupt();
    this.deps.metrics.journalReplayed.inc(entry.points);
    this.deps.metrics.stats.journalReplayed += entry.points;
    if (this.journal.empty) this.logger.info('journal replayed: the store is up to date');
    this.updateGauges();
  }

  private nextMemoryDue(): boolean {
    const { batchMax, bufferMax, flushMs } = this.deps.options;
    const size = this.size;
    if (!this.journal && this.failures > 0 && Date.now() < this.retryAt && !this.stopping) return false;
    return size >= batchMax || size >= bufferMax || this.urgent || Date.now() >= this.firstAddedAt + flushMs;
  }

  /** Moves the oldest `n` points to the journal, a batch at a time; what it refuses (disk budget spent) is dropped and counted. */
  private async spill(n: number): Promise<void> {
    const journal = this.journal!;
    while (n > 0 && this.size > 0) {
      const taken = this.takeHead();
      const points = pointsIn(taken.batch);
      n -= points;
      let ok: boolean;
      try {
        this.busy = 'journal';
        ok = await journal.append(taken.batch);
        this.busy = undefined;
        // stop() gave up on this append at its deadline and has returned: leave the buffer as it is.
        if (this.abandoned) return;
      } catch (err) {
        this.busy = undefined;
        // A disk that fails is a budget spent: drop loudly rather than keep acknowledging what is not safe.
        this.logger.error({ err, dir: journal.dir }, 'journal append failed');
        ok = false;
      }
      if (ok) {
        this.deps.metrics.journalSpilled.inc(points);
        this.deps.metrics.stats.journalSpilled += points;
      } else {
        this.droppedJournalFull += points;
        this.lastJournalDropAt = Date.now();
        this.countDropped(taken.counts, `journal full: its disk budget (JOURNAL_MAX_BYTES) is spent`);
      }
      this.removeHead(taken.counts);
    }
  }

  /**
   * While writes fail, pings the store every second; when it answers, the backoff is cut short. The backoff keeps
   * a down store from taking a write attempt (and a batch's worth of work) every second; the ping costs nothing.
   */
  private startPinging(): void {
    const ping = (this.deps.store as Partial<Pick<Store, 'ping'>>).ping;
    if (this.pinger || typeof ping !== 'function') return;
    let pinging = false;
    this.pinger = setInterval(() => {
      if (pinging || this.stopping) return;
      pinging = true;
      ping.call(this.deps.store).then(
        (up) => {
          pinging = false;
          if (up && this.failures > 0 && this.retryAt > Date.now()) {
            this.retryAt = Date.now();
            this.wakeUp?.();
          }
        },
        () => (pinging = false),
      );
    }, PING_EVERY_MS);
    this.pinger.unref();
  }

  private backoffMs(): number {
    return cappedBackoffMs(this.failures, this.retryBaseMs, this.retryMaxMs);
  }

  /** The head of the buffer as one batch, at most batchMax points, split in proportion to what each kind holds. */
  private takeHead(): { batch: WriteBatch; counts: Counts } {
    // In proportion, so a backlog of readings cannot starve scores.
    const max = this.deps.options.batchMax;
    const total = this.size;
    const counts = this.buffers.map((b) => (total <= max ? b.length : Math.floor((max * b.length) / total))) as Counts;
    let spare = Math.min(max, total) - counts.reduce((a, b) => a + b, 0);
    this.buffers.forEach((b, i) => {
      const k = Math.min(spare, b.length - counts[i]!);
      spare -= k;
      counts[i] = counts[i]! + k;
    });
    const [readings, scores, anomalies, wafers, states] = this.buffers;
    const batch: WriteBatch = {
      readings: readings.slice(0, counts[0]),
      scores: scores.slice(0, counts[1]),
      anomalies: anomalies.slice(0, counts[2]),
      wafers: wafers.slice(0, counts[3]),
      ...(counts[4] > 0 ? { states: states.slice(0, counts[4]) } : {}),
    };
    return { batch, counts };
  }

  private removeHead(counts: Counts): void {
    for (let i = 0; i < KINDS; i++) {
      this.buffers[i]!.splice(0, counts[i]);
      this.removed[i] = this.removed[i]! + counts[i]!;
      this.count -= counts[i]!;
    }
    this.updateGauges();
  }

  /** One store write; never throws. Counts what was written (and what the store refused for good). */
  private async write(batch: WriteBatch): Promise<boolean> {
    const { metrics } = this.deps;
    const nReadings = batch.readings.length;
    const nScores = batch.scores.length;
    const nAnomalies = batch.anomalies.length;
    const nWafers = batch.wafers?.length ?? 0;
    const nStates = batch.states?.length ?? 0;
    const end = metrics.writeSeconds.startTimer();
    // Every WriteResult is one; a store that refuses state changes counts them in `rejected.states`.
    let result: WriteResult | void;
    try {
      result = await withTimeout(this.deps.store.write(batch), this.deps.options.writeTimeoutMs ?? 5_000, 'store write timed out');
    } catch (err) {
      end();
      this.failures++;
      this.retryAt = Date.now() + this.backoffMs();
      this.startPinging();
      metrics.writeErrors.inc();
      metrics.stats.writeErrors++;
      const points = nReadings + nScores + nAnomalies + nWafers + nStates;
      const then = this.journal ? 'journaled; the store is retried' : 'will retry';
      this.logger.warn({ err, points, failures: this.failures, retryInMs: this.backoffMs() }, `store write failed; ${then}`);
      this.updateGauges();
      return false;
    }
    end();
    if (this.abandoned) return true;
    if (this.failures > 0) this.logger.info({ failures: this.failures }, 'store write recovered');
    this.failures = 0;
    this.retryAt = 0;
    clearInterval(this.pinger);
    this.pinger = undefined;
    // Points the store refused for good were not written: they count as dropped, never as written.
    const refused = { readings: 0, scores: 0, anomalies: 0, wafers: 0, states: 0, reason: '', ...result?.rejected };
    const refusedStates = refused.states ?? 0;
    if (refused.readings + refused.scores + refused.anomalies + refused.wafers + refusedStates > 0) {
      this.countDropped([refused.readings, refused.scores, refused.anomalies, refused.wafers, refusedStates], `store refused: ${refused.reason}`);
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
    return true;
  }

  /**
   * Drops the `n` newest points, readings last: they are the system of record, scores and wafer verdicts can be
   * recomputed from them. State changes go just before readings: nothing recomputes them, and they are few.
   * Newest, because the head of the buffer may be in flight to the store right now.
   */
  private dropNewest(n: number, why: string): void {
    const counts: Counts = [0, 0, 0, 0, 0];
    // Scores, wafer verdicts, anomalies, state changes, readings.
    for (const i of [1, 3, 2, 4, 0]) {
      const list = this.buffers[i]!;
      const k = Math.min(n, list.length);
      list.splice(list.length - k, k);
      n -= k;
      this.count -= k;
      counts[i] = k;
    }
    this.countDropped(counts, why);
    // The dropped points were the newest, so a waiter's mark past what is left now means "all of it".
    for (const w of this.waiters) for (let i = 0; i < KINDS; i++) w.marks[i] = Math.min(w.marks[i]!, this.removed[i]! + this.buffers[i]!.length);
    this.updateGauges();
  }

  /** Counts and logs points that will never reach the store: nothing is lost without a counter. */
  private countDropped(counts: Counts, why: string): void {
    const { metrics } = this.deps;
    const names: PointKind[] = ['reading', 'score', 'anomaly', 'wafer', 'state'];
    names.forEach((kind, i) => {
      const k = counts[i]!;
      if (k === 0) return;
      metrics.pointsDropped.inc({ kind }, k);
      metrics.stats.dropped += k;
      if (kind === 'reading') metrics.stats.readingsDropped += k;
      if (kind === 'wafer') metrics.stats.waferVerdictsDropped += k;
      if (kind === 'state') metrics.stats.statesDropped += k;
    });
    const [readings, scores, anomalies, wafers, states] = counts;
    this.logger.error({ why, readings, scores, anomalies, wafers, states }, 'points dropped before reaching the store');
  }

  private corruptCounted = 0;

  private noteCorrupt(): void {
    const corrupt = this.journal?.corrupt ?? 0;
    const counted = this.corruptCounted;
    if (corrupt > counted) {
      this.deps.metrics.journalCorrupt.inc(corrupt - counted);
      this.logger.error({ records: corrupt - counted, dir: this.journal?.dir }, 'journal lines that did not parse were skipped');
      this.corruptCounted = corrupt;
    }
  }

  private reached(marks: Counts): boolean {
    return marks.every((m, i) => this.removed[i]! >= m);
  }

  private updateGauges(): void {
    const { metrics } = this.deps;
    metrics.writeBuffer.set(this.size);
    metrics.stats.readingsBuffered = this.buffers[0].length;
    metrics.journalBytes.set(this.journal?.bytes ?? 0);
    metrics.journalPoints.set(this.journal?.points ?? 0);
    metrics.storageDegraded.set(this.storage.state === 'degraded' ? 1 : 0);
    if (!this.full) for (const wake of this.roomWaiters.splice(0)) wake();
    if (this.waiters.length > 0) {
      const pending: Waiter[] = [];
      for (const w of this.waiters) {
        if (this.reached(w.marks)) w.resolve();
        else pending.push(w);
      }
      this.waiters = pending;
    }
  }
}

/**
 * `work`, or a rejection after `ms`. The write itself goes on and may still land; that is harmless, since every
 * point is keyed to overwrite itself, and its late failure is swallowed here rather than left unhandled.
 */
async function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${message} after ${ms} ms`)), ms)));
  work.catch(() => undefined);
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** True when `work` settles within `ms`; the timer is cleared either way, so it never holds the process open. */
async function finishesBefore(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([work.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
