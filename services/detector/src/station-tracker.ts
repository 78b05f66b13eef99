import type { Contributor, Health, StateMessage, StationMeta, StationStatus, Telemetry } from '@linewatch/protocol';
import type { Logger } from 'pino';
import { decide, finiteOrNull, INITIAL_DECISION, type DecisionState } from './decision.js';
import type { DetectorEvents, EventBus } from './event-bus.js';
import type { DetectorMetrics } from './metrics.js';
import { NOT_LOADED, type ModelRegistry, type ResolvedModel } from './model-registry.js';
import type { ScoredRow } from './model/types.js';
import type { Scorer } from './scorer.js';

type Overlay = 'OFFLINE' | 'DATA_QUALITY' | 'UNMODELLED';

interface StationState {
  line: string;
  station: string;
  meta: StationMeta | undefined;
  equipment: StateMessage | undefined;
  lastSeq: number | undefined;
  lastTs: number | undefined;
  /** Wall clock of the latest telemetry; replays shift `ts`, so OFFLINE uses arrival time. */
  lastSeen: number;
  decision: DecisionState;
  overlay: Overlay | null;
  health: Health | undefined;
  since: number;
  ts: number;
  score: number | null;
  threshold: number | null;
  modelVersion: string | null;
  contributors: Contributor[];
  replay: boolean | undefined;
  /** Routes one station's snapshots in arrival order while its model may still be loading. */
  chain: Promise<void>;
  /** Snapshots waiting on `chain`; while any wait, a newer one must queue behind them to keep the order. */
  waiting: number;
  /**
   * Routed snapshots whose outcome is not applied yet, oldest first. Snapshots of one station go to different
   * models (one per recipe step), whose batches finish in any order; outcomes are applied strictly in this order.
   */
  outcomes: Outcome[];
}

/** What was true of the station when a snapshot arrived; the decision uses it, not what came after. */
interface Arrival {
  receivedAt: number;
  type: string | undefined;
  equipmentState: StateMessage['state'] | undefined;
}

interface Outcome {
  ready: boolean;
  apply: () => void;
}

export interface TrackerDeps {
  bus: EventBus;
  registry: ModelRegistry;
  scorer: Scorer;
  metrics: DetectorMetrics;
  logger: Logger;
  warnAfter: number;
  alarmAfter: number;
  clearAfter: number;
  offlineAfterMs: number;
  now?: () => number;
  /**
   * Check for silent stations on a wall-clock timer (default true). A backtest turns it off and calls
   * `checkOffline()` on its data clock, so its result does not depend on how fast the CPU is.
   */
  offlineTimer?: boolean;
}

/** Per-station state: sequence checks, meta and equipment state, health and its overlays, OFFLINE timer. */
export class StationTracker {
  private readonly stations = new Map<string, StationState>();
  private offlineTimer: NodeJS.Timeout | undefined;
  private readonly logger: Logger;

  constructor(private readonly deps: TrackerDeps) {
    this.logger = deps.logger.child({ module: 'station-tracker' });
  }

  start(): void {
    const { bus } = this.deps;
    bus.on('telemetry', (e) => this.onTelemetry(e));
    bus.on('meta', ({ meta }) => {
      this.get(meta.line, meta.station).meta = meta;
    });
    bus.on('state', ({ line, station, state }) => {
      this.get(line, station).equipment = state;
    });
    if (this.deps.offlineTimer === false) return;
    const every = Math.max(50, Math.min(1000, Math.floor(this.deps.offlineAfterMs / 4)));
    this.offlineTimer = setInterval(() => this.checkOffline(), every);
    this.offlineTimer.unref();
  }

  /** Waits until every routed snapshot has been handed to the scorer. */
  async stop(): Promise<void> {
    if (this.offlineTimer) clearInterval(this.offlineTimer);
    await this.routed();
  }

  /** Resolves once every snapshot received so far has been handed to the scorer (or settled unscored). */
  async routed(): Promise<void> {
    await Promise.all([...this.stations.values()].map((s) => s.chain));
  }

  snapshot(): StationStatus[] {
    return [...this.stations.values()].filter((s) => s.health !== undefined).map((s) => this.status(s));
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }

  private get(line: string, station: string): StationState {
    const key = `${line}/${station}`;
    let s = this.stations.get(key);
    if (!s) {
      s = {
        line, station, meta: undefined, equipment: undefined, lastSeq: undefined, lastTs: undefined, lastSeen: this.now(),
        decision: INITIAL_DECISION, overlay: null, health: undefined, since: 0, ts: 0, score: null, threshold: null,
        modelVersion: null, contributors: [], replay: undefined, chain: Promise.resolve(), waiting: 0, outcomes: [],
      };
      this.stations.set(key, s);
      this.deps.metrics.stations.set(this.stations.size);
    }
    return s;
  }

  private onTelemetry({ line, station, telemetry: t, receivedAt }: DetectorEvents['telemetry']): void {
    const s = this.get(line, station);
    s.lastSeen = receivedAt;
    // Every valid snapshot is stored, duplicates included: the store keys on ts, so a redelivery overwrites itself.
    this.deps.bus.emit('reading', {
      point: { line, station, ts: t.ts, seq: t.seq, values: t.values, context: t.context, replay: t.replay },
    });
    if (!this.advanceSeq(s, t)) return;
    if (s.overlay === 'OFFLINE') s.overlay = null;
    const arrival: Arrival = { receivedAt, type: s.meta?.type, equipmentState: s.equipment?.state };
    // The common case, models loaded and nothing queued: route now, without a promise per snapshot.
    if (s.waiting === 0) {
      const loaded = this.deps.registry.resolveLoaded(station, arrival.type, t.context);
      if (loaded !== NOT_LOADED) {
        try {
          this.routeTo(s, t, arrival, loaded);
        } catch (err) {
          this.routeFailed(s, err);
        }
        return;
      }
    }
    s.waiting++;
    s.chain = s.chain
      .then(async () => {
        try {
          this.routeTo(s, t, arrival, await this.deps.registry.resolve(s.station, arrival.type, t.context));
        } finally {
          s.waiting--;
        }
      })
      .catch((err: unknown) => this.routeFailed(s, err));
  }

  private routeFailed(s: StationState, err: unknown): void {
    this.deps.metrics.handlerErrors.inc({ event: 'route' });
    this.deps.metrics.stats.handlerErrors++;
    this.logger.error({ err, line: s.line, station: s.station }, 'routing a snapshot failed; stored unscored');
  }

  /** Returns false for a duplicate or late snapshot: stored, but not fed to the decision a second time. */
  private advanceSeq(s: StationState, t: Telemetry): boolean {
    const { metrics } = this.deps;
    const last = s.lastSeq;
    if (last === undefined || t.seq === last + 1) {
      s.lastSeq = t.seq;
      s.lastTs = t.ts;
      return true;
    }
    if (t.seq > last + 1) {
      metrics.seq.inc({ kind: 'gap' });
      metrics.seqMissing.inc(t.seq - last - 1);
      metrics.stats.gaps++;
      s.lastSeq = t.seq;
      s.lastTs = t.ts;
      return true;
    }
    if (t.seq < last && s.lastTs !== undefined && t.ts > s.lastTs) {
      // A lower seq with a newer ts: the publisher restarted its counter.
      metrics.seq.inc({ kind: 'reset' });
      s.lastSeq = t.seq;
      s.lastTs = t.ts;
      return true;
    }
    if (t.seq === last) {
      metrics.seq.inc({ kind: 'duplicate' });
      metrics.stats.duplicates++;
    } else {
      metrics.seq.inc({ kind: 'out_of_order' });
      metrics.stats.outOfOrder++;
    }
    metrics.unscored.inc({ reason: 'duplicate_or_late' });
    return false;
  }

  /** Hands a snapshot to its model's scoring queue, or settles it unscored when it has no model or lacks sensors. */
  private routeTo(s: StationState, t: Telemetry, arrival: Arrival, resolved: ResolvedModel | undefined): void {
    if (!resolved) {
      this.deps.metrics.unscored.inc({ reason: 'unmodelled' });
      this.deps.metrics.stats.unmodelled++;
      this.settle(s, () => this.setUnscored(s, t, 'UNMODELLED', null));
      return;
    }
    const { features } = resolved.model.meta;
    const row = new Float64Array(features.length);
    for (let i = 0; i < features.length; i++) {
      const v = t.values[features[i] as string];
      if (v === undefined) {
        this.deps.metrics.unscored.inc({ reason: 'missing_features' });
        this.deps.metrics.stats.dataQuality++;
        this.settle(s, () => this.setUnscored(s, t, 'DATA_QUALITY', resolved));
        return;
      }
      row[i] = v;
    }
    const outcome: Outcome = { ready: false, apply: () => undefined };
    s.outcomes.push(outcome);
    this.deps.scorer.enqueue(resolved, row, (result) => {
      outcome.apply = () => this.applyScore(s, t, resolved, result, arrival);
      outcome.ready = true;
      this.drain(s);
    });
  }

  /** Queues an outcome known now (unscored), behind any snapshot of the station still being scored. */
  private settle(s: StationState, apply: () => void): void {
    s.outcomes.push({ ready: true, apply });
    this.drain(s);
  }

  /** Applies every ready outcome at the head of the station's queue, in order. */
  private drain(s: StationState): void {
    while (s.outcomes[0]?.ready) {
      const next = s.outcomes.shift() as Outcome;
      try {
        next.apply();
      } catch (err) {
        this.deps.metrics.handlerErrors.inc({ event: 'scored' });
        this.deps.metrics.stats.handlerErrors++;
        this.logger.error({ err, line: s.line, station: s.station }, 'decision for a scored snapshot failed; dropped');
      }
    }
  }

  private setUnscored(s: StationState, t: Telemetry, overlay: Overlay, resolved: ResolvedModel | null): void {
    s.overlay = overlay;
    s.score = null;
    s.contributors = [];
    s.threshold = resolved?.model.meta.threshold ?? null;
    s.modelVersion = resolved?.model.meta.version ?? null;
    this.publish(s, t.ts, t.replay);
  }

  private applyScore(s: StationState, t: Telemetry, resolved: ResolvedModel, result: ScoredRow | Error, arrival: Arrival): void {
    const { receivedAt } = arrival;
    if (result instanceof Error) return;
    const decidedAt = this.now();
    this.deps.metrics.decisionSeconds.observe((decidedAt - receivedAt) / 1000);
    // Replays carry original or shifted timestamps: their age says nothing about this pipeline.
    if (!t.replay) this.deps.metrics.readingAgeSeconds.observe(Math.max(0, decidedAt - t.ts) / 1000);
    const meta = resolved.model.meta;
    const d = decide(
      s.decision,
      {
        line: s.line, station: s.station, ts: t.ts, seq: t.seq, values: t.values, context: t.context, replay: t.replay,
        row: result, model: meta, equipmentState: arrival.equipmentState,
      },
      { warnAfter: this.deps.warnAfter, alarmAfter: this.deps.alarmAfter, clearAfter: this.deps.clearAfter },
    );
    s.decision = d.state;
    if (s.overlay !== 'OFFLINE') s.overlay = null;
    s.score = result.score;
    s.threshold = meta.threshold;
    s.modelVersion = meta.version;
    // Status shows the contributors of the latest anomalous snapshot while the station is not OK.
    if (d.state.health === 'OK') s.contributors = [];
    else if (d.contributors.length > 0) s.contributors = d.contributors;
    this.deps.bus.emit('score', {
      point: {
        line: s.line, station: s.station, ts: t.ts, seq: t.seq, score: result.score, threshold: meta.threshold, t2: finiteOrNull(result.t2),
        spe: finiteOrNull(result.spe), anomalous: d.anomalous, health: d.state.health, modelVersion: meta.version, replay: t.replay,
      },
    });
    if (d.anomaly) this.deps.bus.emit('anomaly', { anomaly: d.anomaly });
    this.publish(s, t.ts, t.replay);
  }

  private publish(s: StationState, ts: number, replay: boolean | undefined): void {
    const health = s.overlay ?? s.decision.health;
    const healthChanged = health !== s.health;
    if (healthChanged) {
      s.health = health;
      s.since = ts;
    }
    s.ts = Math.max(s.ts, ts);
    s.replay = replay;
    this.deps.bus.emit('status', { status: this.status(s), healthChanged });
  }

  /** Marks stations silent for longer than `offlineAfterMs` OFFLINE; runs on a timer unless `offlineTimer` is false. */
  checkOffline(): void {
    const now = this.now();
    for (const s of this.stations.values()) {
      // Any station that has sent telemetry, scored yet or not: a backtest notices silence before it scores.
      if (s.lastSeq === undefined || s.overlay === 'OFFLINE' || now - s.lastSeen <= this.deps.offlineAfterMs) continue;
      s.overlay = 'OFFLINE';
      s.health = 'OFFLINE';
      s.since = now;
      this.logger.info({ line: s.line, station: s.station, lastSeen: s.lastSeen }, 'station offline');
      this.deps.bus.emit('status', { status: this.status(s), healthChanged: true });
    }
  }

  private status(s: StationState): StationStatus {
    return {
      line: s.line,
      station: s.station,
      health: s.health ?? 'UNMODELLED',
      since: s.since,
      ts: s.ts,
      score: s.score,
      threshold: s.threshold,
      modelVersion: s.modelVersion,
      contributors: s.health === 'OK' ? [] : s.contributors,
      ...(s.replay !== undefined ? { replay: s.replay } : {}),
    };
  }
}
