import type { Anomaly, Command, EquipmentState, Telemetry, WaferVerdict } from '@linewatch/protocol';
import type { Logger } from 'pino';
import { finiteOrNull } from '../decision.js';
import type { DetectorEvents, EventBus } from '../event-bus.js';
import type { DetectorMetrics } from '../metrics.js';
import type { ModelRegistry } from '../model-registry.js';
import { contextKey, type ModelContext } from '../model/context.js';
import { DEFAULT_WARMUP_MS, WARMUP_AFTER } from '../station-tracker.js';
import { meanIndicators, type Baseline, type BaselineStore } from './baselines.js';
import { indicatorVector, MIN_STEP_SAMPLES, StepTrace, type StepSummary } from './indicators.js';
import { scoreStep } from './wafer-score.js';
import { waferStepOf } from './wafer-steps.js';

interface OpenStep {
  wafer: string;
  lot: string | undefined;
  context: ModelContext;
  trace: StepTrace;
  lastSeq: number;
  replay: boolean | undefined;
  /** False once any snapshot of the step arrived while the tool was not PRODUCTIVE. */
  productive: boolean;
  /** False once any snapshot of the step had a data-quality issue: its indicators would describe bad data. */
  trusted: boolean;
}

interface Rebaseline {
  id: string;
  wafers: number;
  /** Steps collected so far per (recipe, step); a step with its N wafers is judged on its new baseline. */
  collected: Map<string, { context: ModelContext; wafers: string[]; summaries: StepSummary[] }>;
}

interface StationWafers {
  line: string;
  station: string;
  type: string | undefined;
  equipment: EquipmentState | undefined;
  /** Back from down, PM or engineering and not PRODUCTIVE again yet. */
  warmupPending: boolean;
  /** The latest snapshot taken (seq and ts), to tell a redelivered or late one. */
  lastSeq: number | undefined;
  lastTs: number;
  /** Steps that start before this (reading ts) are not judged: the tool is still settling after it came back. */
  warmUntil: number;
  open: OpenStep | undefined;
  rebaseline: Rebaseline | undefined;
  /** Verdicts of one station are given in step order. */
  chain: Promise<void>;
}

export interface WaferMonitorDeps {
  bus: EventBus;
  /** Registry over the wafer models (`{MODELS_DIR}/wafer`). */
  registry: ModelRegistry;
  baselines: BaselineStore;
  metrics: DetectorMetrics;
  logger: Logger;
  /** score > threshold × this is critical. */
  criticalFactor?: number;
  topContributors?: number;
  /** Reading time after a tool's return from down, PM or engineering in which its steps are not judged (WARMUP_MS). */
  warmupMs?: number;
  /**
   * Whether the station's current snapshot has a data-quality issue (StationTracker.hasQualityIssue): a step with one
   * is not judged. The tracker must handle telemetry before the monitor (start it first).
   */
  qualityIssue?: (line: string, station: string) => boolean;
}

/**
 * Wafer-level (run-to-run) detection, the way fab FDC judges wafers: while a wafer runs a step, each sensor's
 * mean, spread, slope, min and max accumulate; when the step ends (the tool's next snapshot belongs to another
 * step or wafer, or has none), the step's indicators are scored by the station's wafer model for that recipe
 * step, against the station's current baseline. A faulty verdict is an anomaly with `level: 'wafer'`, beside the
 * sample-wise ones. A re-baseline command makes the next N wafers the new baseline, without retraining.
 */
export class WaferMonitor {
  private readonly stations = new Map<string, StationWafers>();
  private readonly logger: Logger;

  constructor(private readonly deps: WaferMonitorDeps) {
    this.logger = deps.logger.child({ module: 'wafer-monitor' });
  }

  start(): void {
    const { bus } = this.deps;
    bus.on('telemetry', (e) => this.onTelemetry(e));
    bus.on('meta', ({ meta }) => {
      this.get(meta.line, meta.station).type = meta.type;
    });
    bus.on('state', ({ line, station, state }) => {
      const s = this.get(line, station);
      s.equipment = state.state;
      if (WARMUP_AFTER.has(state.state)) s.warmupPending = true;
      if (state.state === 'PRODUCTIVE' && s.warmupPending) {
        s.warmupPending = false;
        s.warmUntil = state.since + (this.deps.warmupMs ?? DEFAULT_WARMUP_MS);
      }
      // A step ends when its tool stops producing. Cut short, it is no wafer to judge (the tool's state says what
      // happened); a PM's first wafers must not join it either.
      if (state.state !== 'PRODUCTIVE' && s.open) {
        const open = s.open;
        s.open = undefined;
        if (WARMUP_AFTER.has(state.state)) s.chain = s.chain.then(() => this.unjudged('interrupted'));
        else this.closeStep(s, open);
      }
    });
    bus.on('command', ({ line, station, command }) => this.onCommand(line, station, command));
  }

  /**
   * Waits for every verdict due. A step still open is cut off (the detector stops, the recording ends): its
   * indicators would describe part of a step, so it is counted unjudged (`incomplete`), not judged.
   */
  async stop(): Promise<void> {
    for (const s of this.stations.values()) {
      if (s.open) this.unjudged('incomplete');
      s.open = undefined;
    }
    await this.settled();
  }

  /** Resolves once every step closed so far has its verdict. */
  async settled(): Promise<void> {
    await Promise.all([...this.stations.values()].map((s) => s.chain));
  }

  private get(line: string, station: string): StationWafers {
    const key = `${line}/${station}`;
    let s = this.stations.get(key);
    if (!s) {
      s = { line, station, type: undefined, equipment: undefined, warmupPending: false, lastSeq: undefined, lastTs: 0, warmUntil: 0, open: undefined, rebaseline: undefined, chain: Promise.resolve() };
      this.stations.set(key, s);
    }
    return s;
  }

  private onTelemetry({ line, station, telemetry: t }: DetectorEvents['telemetry']): void {
    const s = this.get(line, station);
    // A redelivered or late snapshot (QoS 1 may repeat one) belongs to what came before: it must neither end the
    // open step early nor be summed twice. A lower seq with a newer ts is a publisher restart, as the tracker reads it.
    if (s.lastSeq !== undefined && t.seq <= s.lastSeq && !(t.seq < s.lastSeq && t.ts > s.lastTs)) {
      this.unjudged('late_snapshot');
      return;
    }
    s.lastSeq = t.seq;
    s.lastTs = t.ts;
    // Most snapshots continue the open step: tell so from the context's fields, without building a key.
    const c = t.context;
    const open = s.open;
    if (open && c?.wafer === open.wafer && c.step === open.context.step && c.recipe === open.context.recipe) {
      this.add(s, open, t);
      return;
    }
    const step = waferStepOf(c);
    if (open) this.close(s);
    if (!step) return;
    s.open ??= {
      wafer: step.wafer, lot: t.context?.lot, context: step.context, trace: new StepTrace(), lastSeq: -1, replay: t.replay,
      productive: true, trusted: true,
    };
    this.add(s, s.open, t);
  }

  private add(s: StationWafers, open: OpenStep, t: Telemetry): void {
    open.trace.add(t.ts, t.values);
    open.lastSeq = t.seq;
    if (s.equipment !== undefined && s.equipment !== 'PRODUCTIVE') open.productive = false;
    if (this.deps.qualityIssue?.(s.line, s.station)) open.trusted = false;
  }

  private onCommand(line: string, station: string, command: Command): void {
    const s = this.get(line, station);
    // In step order: a step that ended before the command is judged on the baseline it ran under, not collected
    // (verdicts are worked out after the fact, so without the queue the command could reach back past the PM).
    s.chain = s.chain.then(() => {
      s.rebaseline = { id: command.id, wafers: command.wafers, collected: new Map() };
      this.logger.info({ line, station, id: command.id, wafers: command.wafers, reason: command.reason }, 're-baseline requested: the next wafers set the baseline');
    });
  }

  private close(s: StationWafers): void {
    const open = s.open;
    if (!open) return;
    s.open = undefined;
    this.closeStep(s, open);
  }

  private closeStep(s: StationWafers, open: OpenStep): void {
    const summary = open.trace.finish();
    // Decided now, not when the verdict is worked out: by then later state changes (a PM) may have arrived.
    const warmingUp = summary.start < s.warmUntil;
    s.chain = s.chain
      .then(() => this.judge(s, open, summary, warmingUp))
      .catch((err: unknown) => {
        this.deps.metrics.handlerErrors.inc({ event: 'wafer' });
        this.deps.metrics.stats.handlerErrors++;
        this.logger.error({ err, line: s.line, station: s.station, wafer: open.wafer }, 'wafer verdict failed');
      });
  }

  private unjudged(reason: string): void {
    this.deps.metrics.waferSteps.inc({ verdict: 'unjudged', reason });
  }

  private async judge(s: StationWafers, open: OpenStep, summary: StepSummary, warmingUp: boolean): Promise<void> {
    if (summary.samples < MIN_STEP_SAMPLES) return this.unjudged('too_short');
    if (warmingUp) return this.unjudged('warmup');
    // A step run outside PRODUCTIVE (engineering, a PM test wafer) is expected to look different.
    if (!open.productive) return this.unjudged('not_productive');
    // Bad data (a sensor stuck, missing or out of range) is DATA_QUALITY, never a process verdict.
    if (!open.trusted) return this.unjudged('data_quality');
    const resolved = await this.deps.registry.resolve(s.station, s.type, open.context);
    if (!resolved) return this.unjudged('unmodelled');
    const model = resolved.model;
    const meta = model.meta;
    // During a re-baseline, a step is collected until it has its N wafers; later wafers are judged on the new one.
    const slot = s.rebaseline?.collected.get(contextKey(open.context));
    if (s.rebaseline && !(slot && slot.wafers.length >= s.rebaseline.wafers)) return this.collect(s, open, summary, meta.version, meta.threshold);

    const baseline = await this.deps.baselines.get(s.line, s.station, open.context);
    let vector: Float64Array | undefined;
    if (baseline) {
      const v = indicatorVector(baseline.indicators, meta.features);
      if (v instanceof Float64Array) vector = v;
      else this.logger.warn({ line: s.line, station: s.station, missing: v.missing, baseline: baseline.id }, 'baseline lacks an indicator of the model; judged against the model baseline');
    }
    const scored = await scoreStep(model, summary, vector, this.deps.topContributors ?? 5);
    if (!('row' in scored)) return this.unjudged('missing_sensor');
    const fault = scored.row.score > meta.threshold;
    const verdict = this.verdict(s, open, summary, {
      verdict: fault ? 'fault' : 'ok', score: scored.row.score, threshold: meta.threshold, t2: finiteOrNull(scored.row.t2), spe: finiteOrNull(scored.row.spe),
      modelVersion: meta.version, baseline: vector && baseline ? baseline.id : 'model', contributors: fault ? scored.contributors : [],
    });
    this.deps.metrics.waferSteps.inc({ verdict: verdict.verdict, reason: '' });
    this.deps.bus.emit('wafer', { verdict });
    if (fault) this.deps.bus.emit('anomaly', { anomaly: this.anomaly(verdict, open, meta.t2Limit, meta.speLimit) });
  }

  private verdict(s: StationWafers, open: OpenStep, summary: StepSummary, rest: Omit<WaferVerdict, 'id' | 'line' | 'station' | 'wafer' | 'step' | 'start' | 'end' | 'samples'>): WaferVerdict {
    return {
      id: `${s.line}/${s.station}/${open.wafer}/${open.context.step ?? ''}/${summary.start}`,
      line: s.line, station: s.station, wafer: open.wafer,
      ...(open.lot !== undefined ? { lot: open.lot } : {}),
      ...(open.context.recipe !== undefined ? { recipe: open.context.recipe } : {}),
      step: open.context.step ?? '', start: summary.start, end: summary.end, samples: summary.samples,
      ...rest,
      ...(open.replay !== undefined ? { replay: open.replay } : {}),
    };
  }

  private anomaly(v: WaferVerdict, open: OpenStep, t2Limit: number | undefined, speLimit: number | undefined): Anomaly {
    const critical = v.score > v.threshold * (this.deps.criticalFactor ?? 2);
    return {
      id: `${v.line}/${v.station}/wafer/${v.wafer}/${v.step}/${v.start}`,
      line: v.line, station: v.station, ts: v.end, seq: open.lastSeq,
      score: v.score, threshold: v.threshold, t2: v.t2, ...(t2Limit !== undefined ? { t2Limit } : {}), spe: v.spe, ...(speLimit !== undefined ? { speLimit } : {}),
      modelVersion: v.modelVersion, severity: critical ? 'critical' : 'warning', contributors: v.contributors, level: 'wafer',
      context: { ...open.context, wafer: open.wafer, ...(open.lot !== undefined ? { lot: open.lot } : {}) },
      ...(v.replay !== undefined ? { replay: v.replay } : {}),
    };
  }

  /** A step during a re-baseline: collected, not judged; the baseline is set once a step has enough wafers. */
  private async collect(s: StationWafers, open: OpenStep, summary: StepSummary, modelVersion: string, threshold: number): Promise<void> {
    const rb = s.rebaseline as Rebaseline;
    const key = contextKey(open.context);
    const slot = rb.collected.get(key) ?? { context: open.context, wafers: [], summaries: [] };
    rb.collected.set(key, slot);
    if (slot.wafers.length < rb.wafers) {
      slot.wafers.push(open.wafer);
      slot.summaries.push(summary);
    }
    const verdict = this.verdict(s, open, summary, { verdict: 'baselining', score: 0, threshold, t2: null, spe: null, modelVersion, baseline: rb.id, contributors: [] });
    this.deps.metrics.waferSteps.inc({ verdict: 'baselining', reason: '' });
    this.deps.bus.emit('wafer', { verdict });
    if (slot.wafers.length < rb.wafers || slot.summaries.length === 0) return;
    const baseline: Baseline = { id: rb.id, context: slot.context, at: summary.end, wafers: slot.wafers, indicators: meanIndicators(slot.summaries.map((x) => ({ indicators: x.indicators }))) };
    const file = await this.deps.baselines.set(s.line, s.station, [baseline]);
    slot.summaries = [];
    this.logger.info({ line: s.line, station: s.station, id: rb.id, context: slot.context, wafers: slot.wafers, file }, 'baseline re-set');
    // The re-baseline stays open: a recipe step that first runs later (another recipe's lot) has not been
    // re-baselined since the PM either, so its first N wafers set its baseline too. The next command replaces it.
  }
}
