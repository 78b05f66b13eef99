import type { Logger } from 'pino';
import type { DetectorMetrics } from './metrics.js';
import type { ResolvedModel } from './model-registry.js';
import { inputWidth } from './model/onnx-model.js';
import type { ScoredRow, StationModel } from './model/types.js';

export type ScoreCallback = (result: ScoredRow | Error) => void;

interface Job {
  row: ArrayLike<number>;
  onResult: ScoreCallback;
}

interface ModelQueue {
  /** The file's model as of the latest enqueue; a hot reload swaps it (see `enqueue`). */
  resolved: ResolvedModel;
  pending: Job[];
  timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  /** Runs of one model are chained so results come back in arrival order, which per-station decisions need. */
  tail: Promise<void>;
  inFlight: number;
}

/**
 * Batches snapshots per model file: up to `batchMax` rows or `batchWaitMs`, then one [N, F] Float32Array
 * and one onnxruntime call. Callbacks fire in the order snapshots were enqueued.
 *
 * `batchWaitMs` 0 (the default) waits for nothing: a batch holds what arrived in the same turn of the event
 * loop (mqtt.js parses every packet of a TCP read in one turn), so batches grow with load by themselves and a
 * lone snapshot at a low rate is scored at once instead of waiting for company.
 */
export class Scorer {
  private readonly queues = new Map<string, ModelQueue>();
  private readonly logger: Logger;
  private roomWaiters: { below: number; wake: () => void }[] = [];

  constructor(private readonly deps: { batchMax: number; batchWaitMs: number; metrics: DetectorMetrics; logger: Logger }) {
    this.logger = deps.logger.child({ module: 'scorer' });
  }

  /** Snapshots enqueued or being scored; ingest holds back while this is high. */
  get backlog(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.pending.length + q.inFlight;
    return n;
  }

  /** Resolves once the backlog is below `limit` (at once if it already is); ingest holds its acks until then. */
  waitForBacklogBelow(limit: number): Promise<void> {
    if (this.backlog < limit) return Promise.resolve();
    return new Promise((wake) => this.roomWaiters.push({ below: limit, wake }));
  }

  private wakeWaiters(): void {
    if (this.roomWaiters.length === 0) return;
    const backlog = this.backlog;
    const ready = this.roomWaiters.filter((w) => backlog < w.below);
    this.roomWaiters = this.roomWaiters.filter((w) => backlog >= w.below);
    for (const w of ready) w.wake();
  }

  enqueue(resolved: ResolvedModel, row: ArrayLike<number>, onResult: ScoreCallback): void {
    let q = this.queues.get(resolved.path);
    if (!q) {
      q = { resolved, pending: [], timer: undefined, tail: Promise.resolve(), inFlight: 0 };
      this.queues.set(resolved.path, q);
    } else if (q.resolved.model !== resolved.model) {
      // The file was reloaded: what is queued goes to the model it was routed to (and whose version its decision
      // records), in its own batch; the new model's runs chain behind it, so the order holds.
      this.flush(q);
      q.resolved = resolved;
    }
    // Keeps a replaced model's session alive until this snapshot's batch has run.
    resolved.uses?.hold(1);
    q.pending.push({ row, onResult });
    if (q.pending.length >= this.deps.batchMax) this.flush(q);
    else q.timer ??= this.deps.batchWaitMs > 0 ? setTimeout(() => this.flush(q), this.deps.batchWaitMs) : setImmediate(() => this.flush(q));
  }

  private flush(q: ModelQueue): void {
    if (q.timer) {
      if (this.deps.batchWaitMs > 0) clearTimeout(q.timer as NodeJS.Timeout);
      else clearImmediate(q.timer as NodeJS.Immediate);
    }
    q.timer = undefined;
    // Taken now, not when the chained run starts: by then a reload may have swapped the queue's model.
    const { model, uses } = q.resolved;
    while (q.pending.length > 0) {
      const jobs = q.pending.splice(0, this.deps.batchMax);
      q.inFlight += jobs.length;
      q.tail = q.tail
        .then(() => this.run(model, jobs))
        .finally(() => {
          q.inFlight -= jobs.length;
          uses?.done(jobs.length);
          this.wakeWaiters();
        });
    }
  }

  private async run(model: StationModel, jobs: Job[]): Promise<void> {
    const f = inputWidth(model.meta);
    const rows = new Float32Array(jobs.length * f);
    jobs.forEach((job, i) => rows.set(job.row, i * f));
    this.deps.metrics.batchSize.observe(jobs.length);
    const end = this.deps.metrics.scoreSeconds.startTimer();
    let results: ScoredRow[] | Error;
    try {
      results = await model.score(rows, jobs.length);
      if (results.length !== jobs.length) throw new Error(`model returned ${results.length} rows for ${jobs.length}`);
    } catch (err) {
      results = new Error(`model ${model.meta.version} failed to score ${jobs.length} rows`, { cause: err });
      this.deps.metrics.scoreErrors.inc(jobs.length);
      this.deps.metrics.stats.scoreErrors += jobs.length;
      this.logger.error({ err, version: model.meta.version }, 'scoring failed; readings are stored unscored');
    }
    end();
    jobs.forEach((job, i) => {
      try {
        job.onResult(results instanceof Error ? results : (results[i] as ScoredRow));
      } catch (err) {
        this.deps.metrics.handlerErrors.inc({ event: 'scored' });
        this.deps.metrics.stats.handlerErrors++;
        this.logger.error({ err }, 'decision for a scored snapshot failed; dropped');
      }
    });
  }

  /** Scores everything queued so far and waits for its callbacks. */
  async drain(): Promise<void> {
    for (const q of this.queues.values()) this.flush(q);
    await Promise.all([...this.queues.values()].map((q) => q.tail));
  }

  /** Scores everything still queued. */
  stop(): Promise<void> {
    return this.drain();
  }
}
