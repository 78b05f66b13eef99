import type { Contributor, DataQualityIssue, EquipmentState, Health, ProcessContext, StateMessage, StationMeta, StationStatus, Telemetry, WaferVerdictSummary } from '@linewatch/protocol';
import type { Logger } from 'pino';
import { decide, finiteOrNull, INITIAL_DECISION, type DecisionRules, type DecisionState } from './decision.js';
import type { DetectorEvents, EventBus } from './event-bus.js';
import type { DetectorMetrics } from './metrics.js';
import { NOT_LOADED, type ModelRegistry, type ResolvedModel } from './model-registry.js';
import { brokenCorrelations, standardise } from './explain/broken-correlations.js';
import { LagBuffer } from './model/lag-buffer.js';
import { RunRules } from './spc/western-electric.js';
import type { ScoredRow } from './model/types.js';
import { DataQualityMonitor, DEFAULT_QUALITY_RULES, type DataQualityRules, type QualityChange } from './quality/data-quality.js';
import type { Scorer } from './scorer.js';

/** Default warm-up after a tool comes back to PRODUCTIVE from down, PM or engineering (ms of reading time). */
export const DEFAULT_WARMUP_MS = 30_000;

/**
 * States after which a tool's first PRODUCTIVE readings are not judged: someone opened, fixed, cleaned or
 * experimented on it, and the chamber has to settle. STANDBY is not among them: the tool idles there
 * between wafers, and warming up after each would leave the start of every wafer unwatched.
 */
export const WARMUP_AFTER: ReadonlySet<EquipmentState> = new Set(['SCHEDULED_DOWN', 'UNSCHEDULED_DOWN', 'ENGINEERING', 'NON_SCHEDULED']);

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
  quality: DataQualityMonitor;
  /** The recent rows of the station's current model, for models that read time (`lags` > 0). */
  lags: LagBuffer;
  /** Western Electric run rules over the current model's sensors; a new model (step) starts them afresh. */
  spc: { model: ResolvedModel['model']; rules: RunRules } | undefined;
  /** Active data-quality issues as of the latest applied outcome: what the status shows. */
  issues: readonly DataQualityIssue[];
  /** The tool has been down, in PM or engineering since it last produced: its next PRODUCTIVE snapshot starts a warm-up. */
  warmupPending: boolean;
  /** Reading ts until which a PRODUCTIVE snapshot is not judged. */
  warmupUntil: number;
  decision: DecisionState;
  overlay: Overlay | null;
  health: Health | undefined;
  since: number;
  ts: number;
  score: number | null;
  threshold: number | null;
  modelVersion: string | null;
  contributors: Contributor[];
  /** The latest wafer-level verdict, shown on the status beside the sample-wise health. */
  lastWafer: WaferVerdictSummary | undefined;
  /** Process context of the snapshot at `ts` (recipe, step, lot, wafer); undefined when it carried none. */
  context: ProcessContext | undefined;
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
  /** Sequence numbers skipped right before it. */
  missedSeq: number;
  /** The first snapshot back in PRODUCTIVE after down or PM: the decision's counters restart from it. */
  resumed: boolean;
  warmingUp: boolean;
  /** Set when routed: what its data-quality check raised or cleared, the issues active after it, and DataQualityMonitor.suspect. */
  quality: readonly QualityChange[];
  issues: readonly DataQualityIssue[];
  suspect: boolean;
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
  /** One snapshot beyond threshold × this alarms at once; 0 or unset = off (decision.ts `alarmFactor`). */
  alarmFactor?: number;
  /** Count SPC run-rule hits as anomalous (decision.ts `spcAlarm`). */
  spcAlarm?: boolean;
  /** Data-quality checks (default DEFAULT_QUALITY_RULES). */
  quality?: DataQualityRules;
  /** Reading time (ms) after a tool's return to PRODUCTIVE from down or PM during which it is not judged (default DEFAULT_WARMUP_MS). */
  warmupMs?: number;
  now?: () => number;
  /**
   * Check for silent stations on a wall-clock timer (default true). A backtest turns it off and calls
   * `checkOffline()` on its data clock, so its result does not depend on how fast the CPU is.
   */
  offlineTimer?: boolean;
}

/**
 * Per-station state: sequence checks, data quality, meta and equipment state, health and its overlays, OFFLINE
 * timer. A snapshot is always stored and, with a model, scored; it is judged (fed to the health decision) only
 * when its data is trustworthy and its tool is not warming up, so neither can raise a process ALARM.
 */
export class StationTracker {
  private readonly stations = new Map<string, StationState>();
  private offlineTimer: NodeJS.Timeout | undefined;
  private readonly logger: Logger;

  /** The decision rules, fixed for the tracker's life: built once, not per snapshot. */
  private readonly rules: DecisionRules;

  constructor(private readonly deps: TrackerDeps) {
    this.logger = deps.logger.child({ module: 'station-tracker' });
    this.rules = {
      warnAfter: deps.warnAfter, alarmAfter: deps.alarmAfter, clearAfter: deps.clearAfter,
      ...(deps.alarmFactor ? { alarmFactor: deps.alarmFactor } : {}), spcAlarm: deps.spcAlarm === true,
    };
  }

  start(): void {
    const { bus } = this.deps;
    bus.on('telemetry', (e) => this.onTelemetry(e));
    bus.on('meta', ({ meta }) => {
      const s = this.get(meta.line, meta.station);
      s.meta = meta;
      s.quality.setMeta(meta);
    });
    bus.on('wafer', ({ verdict: v }) => {
      const s = this.get(v.line, v.station);
      s.lastWafer = { wafer: v.wafer, step: v.step, end: v.end, verdict: v.verdict, score: v.score, threshold: v.threshold };
      if (s.health !== undefined) bus.emit('status', { status: this.status(s), healthChanged: false });
    });
    bus.on('state', ({ line, station, state }) => {
      const s = this.get(line, station);
      if (WARMUP_AFTER.has(state.state)) s.warmupPending = true;
      s.equipment = state;
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
    // Called for every group of acks: only stations with snapshots still waiting for a model hold a promise.
    const waiting: Promise<void>[] = [];
    for (const s of this.stations.values()) if (s.waiting > 0) waiting.push(s.chain);
    await Promise.all(waiting);
  }

  /**
   * Whether the station's latest routed snapshot has a data-quality issue (stuck, out of range, missing, gap, skew).
   * Checked when a snapshot is routed, which for a station with loaded models is while its telemetry event is
   * handled: a handler registered after the tracker's sees the answer for the same snapshot.
   */
  hasQualityIssue(line: string, station: string): boolean {
    return (this.stations.get(`${line}/${station}`)?.quality.issues.length ?? 0) > 0;
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
        quality: new DataQualityMonitor(this.deps.quality ?? DEFAULT_QUALITY_RULES), lags: new LagBuffer(), spc: undefined, issues: [], warmupPending: false, warmupUntil: 0,
        decision: INITIAL_DECISION, overlay: null, health: undefined, since: 0, ts: 0, score: null, threshold: null,
        modelVersion: null, contributors: [], lastWafer: undefined, context: undefined, replay: undefined, chain: Promise.resolve(), waiting: 0, outcomes: [],
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
    const missedSeq = this.advanceSeq(s, t);
    if (missedSeq === null) return;
    if (s.overlay === 'OFFLINE') s.overlay = null;
    const equipmentState = s.equipment?.state;
    const resumed = equipmentState === 'PRODUCTIVE' && s.warmupPending;
    if (resumed) {
      s.warmupPending = false;
      s.warmupUntil = t.ts + (this.deps.warmupMs ?? DEFAULT_WARMUP_MS);
      this.logger.info({ line, station, ts: t.ts, until: s.warmupUntil }, 'tool back in production: warming up, not judged until then');
    }
    const arrival: Arrival = {
      receivedAt, type: s.meta?.type, equipmentState, missedSeq, resumed,
      warmingUp: equipmentState === 'PRODUCTIVE' && t.ts < s.warmupUntil, quality: [], issues: [], suspect: false,
    };
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

  /**
   * Returns how many seq were skipped before this snapshot, or null for a duplicate or late one: stored, but not
   * fed to the decision a second time.
   */
  private advanceSeq(s: StationState, t: Telemetry): number | null {
    const { metrics } = this.deps;
    const last = s.lastSeq;
    if (last === undefined || t.seq === last + 1) {
      s.lastSeq = t.seq;
      s.lastTs = t.ts;
      return 0;
    }
    if (t.seq > last + 1) {
      metrics.seq.inc({ kind: 'gap' });
      metrics.seqMissing.inc(t.seq - last - 1);
      metrics.stats.gaps++;
      s.lastSeq = t.seq;
      s.lastTs = t.ts;
      return t.seq - last - 1;
    }
    if (t.seq < last && s.lastTs !== undefined && t.ts > s.lastTs) {
      // A lower seq with a newer ts: the publisher restarted its counter.
      metrics.seq.inc({ kind: 'reset' });
      s.lastSeq = t.seq;
      s.lastTs = t.ts;
      return 0;
    }
    if (t.seq === last) {
      metrics.seq.inc({ kind: 'duplicate' });
      metrics.stats.duplicates++;
    } else {
      metrics.seq.inc({ kind: 'out_of_order' });
      metrics.stats.outOfOrder++;
    }
    metrics.unscored.inc({ reason: 'duplicate_or_late' });
    return null;
  }

  /**
   * Checks a snapshot's data quality (here: in arrival order, and with the model that will score it), then hands
   * it to its model's scoring queue, or settles it unscored when it has no model or lacks sensors.
   */
  private routeTo(s: StationState, t: Telemetry, arrival: Arrival, resolved: ResolvedModel | undefined): void {
    arrival.quality = s.quality.check({
      ts: t.ts, seq: t.seq, values: t.values, replay: t.replay, receivedAt: arrival.receivedAt, missedSeq: arrival.missedSeq, model: resolved?.model.meta,
    });
    arrival.issues = s.quality.issues;
    arrival.suspect = s.quality.suspect;
    if (!resolved) {
      this.deps.metrics.unscored.inc({ reason: 'unmodelled' });
      this.deps.metrics.stats.unmodelled++;
      this.settle(s, () => this.setUnscored(s, t, arrival, 'UNMODELLED', null));
      return;
    }
    const { features } = resolved.model.meta;
    const row = new Float64Array(features.length);
    for (let i = 0; i < features.length; i++) {
      const v = t.values[features[i] as string];
      if (v === undefined) {
        s.lags.reset();
        this.deps.metrics.unscored.inc({ reason: 'missing_features' });
        this.deps.metrics.stats.dataQuality++;
        this.settle(s, () => this.setUnscored(s, t, arrival, 'DATA_QUALITY', resolved));
        return;
      }
      row[i] = v;
    }
    let input: Float64Array = row;
    const lags = resolved.model.meta.lags ?? 0;
    if (lags > 0) {
      // A window holds consecutive snapshots only: after a gap the history is not this snapshot's past.
      if (arrival.missedSeq > 0) s.lags.reset();
      const period = resolved.model.meta.lagPeriodMs;
      const stacked = s.lags.push(resolved.path, row, lags, period ? { ts: t.ts, periodMs: period } : undefined);
      if (!stacked) {
        // The first snapshots of a step, before the model has its `lags` earlier ones: stored, not scored.
        this.deps.metrics.unscored.inc({ reason: 'warming_up' });
        this.settle(s, () => {
          this.applyArrival(s, t, arrival);
          this.publish(s, t);
        });
        return;
      }
      input = stacked;
    }
    const outcome: Outcome = { ready: false, apply: () => undefined };
    s.outcomes.push(outcome);
    this.deps.scorer.enqueue(resolved, input, (result) => {
      outcome.apply = () => this.applyScore(s, t, resolved, result, arrival, row);
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

  /** Applies what a snapshot changed before its score: its data-quality issues, and the restart after down or PM. */
  private applyArrival(s: StationState, t: Telemetry, arrival: Arrival): void {
    const { bus, metrics } = this.deps;
    for (const { state, issue } of arrival.quality) {
      if (state === 'raised') {
        metrics.qualityIssues.inc({ kind: issue.kind });
        metrics.qualityActive.inc();
        metrics.stats.qualityIssues++;
      } else {
        metrics.qualityActive.dec();
      }
      bus.emit('quality', { event: { ...issue, line: s.line, station: s.station, ts: t.ts, state, ...(t.replay !== undefined ? { replay: t.replay } : {}) } });
    }
    s.issues = arrival.issues;
    // What the tool did before it went down says nothing about it now: it must earn WARN and ALARM afresh.
    if (arrival.resumed) s.decision = { ...s.decision, consecutiveAnomalous: 0, consecutiveNormal: 0 };
  }

  private setUnscored(s: StationState, t: Telemetry, arrival: Arrival, overlay: Overlay, resolved: ResolvedModel | null): void {
    this.applyArrival(s, t, arrival);
    s.overlay = overlay;
    s.score = null;
    s.contributors = [];
    s.threshold = resolved?.model.meta.threshold ?? null;
    s.modelVersion = resolved?.model.meta.version ?? null;
    this.publish(s, t);
  }

  /** `row` is the snapshot's values in the model's feature order (as routed), for the SPC rules. */
  private applyScore(s: StationState, t: Telemetry, resolved: ResolvedModel, result: ScoredRow | Error, arrival: Arrival, row: Float64Array): void {
    const { receivedAt } = arrival;
    this.applyArrival(s, t, arrival);
    if (result instanceof Error) return;
    const decidedAt = this.now();
    this.deps.metrics.decisionSeconds.observe((decidedAt - receivedAt) / 1000);
    // Replays carry original or shifted timestamps: their age says nothing about this pipeline.
    if (!t.replay) this.deps.metrics.readingAgeSeconds.observe(Math.max(0, decidedAt - t.ts) / 1000);
    const meta = resolved.model.meta;
    const suppressed = arrival.issues.length > 0 ? 'data_quality' : arrival.warmingUp ? 'warmup' : undefined;
    // By model, not by file: a hot-reloaded file brings new limits. A gap breaks every run (a rule reads consecutive
    // snapshots), and a snapshot that is not judged (bad data, warm-up) does not feed the runs.
    if (s.spc?.model !== resolved.model) {
      s.spc = { model: resolved.model, rules: new RunRules(meta.features, { center: meta.spcCenter ?? meta.mean, sigma: meta.spcSigma ?? meta.std }) };
    }
    if (arrival.missedSeq > 0) s.spc.rules.reset();
    const hits = suppressed ? [] : s.spc.rules.push(row);
    // Broken pairs are named only on an anomaly, and only an anomalous snapshot can raise one: no closure otherwise.
    const pairs = result.score > meta.threshold || this.rules.spcAlarm ? meta.pairs : undefined;
    // A suppressed snapshot still goes through decide() for what `anomalous` means, as a state that cannot alarm
    // (decide suppresses outside PRODUCTIVE); its verdict is then dropped: health stays, counters restart.
    const d = decide(
      s.decision,
      {
        line: s.line, station: s.station, ts: t.ts, seq: t.seq, values: t.values, context: t.context, replay: t.replay,
        row: result, model: meta, equipmentState: suppressed ? 'ENGINEERING' : arrival.equipmentState,
        rules: hits,
        ...(pairs ? { brokenCorrelations: () => brokenCorrelations(pairs, standardise(t.values, meta), meta.features, 5) } : {}),
      },
      this.rules,
    );
    // An anomalous snapshot while a sensor may be freezing neither counts nor breaks a run: it waits for the verdict.
    const unjudged = suppressed ?? (arrival.suspect && d.anomalous ? 'suspect' : undefined);
    if (unjudged) {
      this.deps.metrics.unjudged.inc({ reason: unjudged });
      this.deps.metrics.stats.unjudged++;
      if (suppressed) s.decision = { ...s.decision, consecutiveAnomalous: 0, consecutiveNormal: 0 };
    } else {
      s.decision = d.state;
      // Status shows the contributors of the latest anomalous snapshot while the station is not OK.
      if (d.state.health === 'OK') s.contributors = [];
      else if (d.contributors.length > 0) s.contributors = d.contributors;
    }
    if (s.overlay !== 'OFFLINE') s.overlay = null;
    s.score = result.score;
    s.threshold = meta.threshold;
    s.modelVersion = meta.version;
    this.deps.bus.emit('score', {
      point: {
        line: s.line, station: s.station, ts: t.ts, seq: t.seq, score: result.score, threshold: meta.threshold, t2: finiteOrNull(result.t2),
        spe: finiteOrNull(result.spe), anomalous: d.anomalous, health: s.issues.length > 0 ? 'DATA_QUALITY' : s.decision.health,
        modelVersion: meta.version, replay: t.replay,
      },
    });
    if (d.anomaly && !unjudged) this.deps.bus.emit('anomaly', { anomaly: d.anomaly });
    this.publish(s, t);
  }

  private publish(s: StationState, t: Telemetry): void {
    const { ts, replay } = t;
    // OFFLINE says more than anything the last snapshot showed; untrustworthy data more than the model's verdict.
    const health = s.overlay === 'OFFLINE' ? 'OFFLINE' : s.issues.length > 0 ? 'DATA_QUALITY' : (s.overlay ?? s.decision.health);
    const healthChanged = health !== s.health;
    if (healthChanged) {
      s.health = health;
      s.since = ts;
    }
    // The context goes with `ts`: a snapshot older than the latest (after a gap) does not take it back.
    if (ts >= s.ts) s.context = t.context && Object.keys(t.context).length > 0 ? t.context : undefined;
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
      s.lags.reset();
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
      // A data-quality issue is no process deviation: the contributors of an earlier one would mislead.
      contributors: s.health === 'OK' || s.health === 'DATA_QUALITY' ? [] : s.contributors,
      ...(s.issues.length > 0 ? { quality: [...s.issues] } : {}),
      ...(s.lastWafer ? { lastWafer: s.lastWafer } : {}),
      ...(s.context ? { context: s.context } : {}),
      ...(s.replay !== undefined ? { replay: s.replay } : {}),
    };
  }
}
