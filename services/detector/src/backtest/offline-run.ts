import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readEntries, readHeader, type RecordingEntry } from '@linewatch/recording';
import type { ScorePoint } from '@linewatch/store';
import type { Logger } from 'pino';
import { EventBus } from '../event-bus.js';
import { DetectorMetrics } from '../metrics.js';
import { ModelRegistry } from '../model-registry.js';
import type { StationModel } from '../model/types.js';
import { Scorer } from '../scorer.js';
import { StationTracker } from '../station-tracker.js';
import { BaselineStore } from '../wafer/baselines.js';
import { WaferMonitor } from '../wafer/wafer-monitor.js';
import { WAFER_MODELS_DIR } from '../wafer/wafer-train.js';
import { faultWindows, TruthCollector, type PointLabels } from './labels.js';
import type { RunTrace, StationTrace } from './trace.js';

/** The live detector's decision settings (its env keys), so a backtest judges exactly as it does. */
export interface DetectorRules {
  warnAfter: number;
  alarmAfter: number;
  clearAfter: number;
  offlineAfterMs: number;
  alarmFactor?: number;
  spcAlarm?: boolean;
  quality?: { stuckAfter: number; clearAfter: number; maxClockSkewMs: number };
  warmupMs?: number;
}

export interface OfflineRunOptions {
  modelsDir: string;
  rules: DetectorRules;
  loadModel: (path: string) => Promise<StationModel>;
  logger: Logger;
  /** Rows per onnxruntime call; offline there is no latency to protect, so batches are large. */
  batchMax?: number;
  /** Telemetry per station that trained the model: still fed to the detector, left out of the metrics. */
  trainRows?: number;
  /** Check each entry against the schema (default true). */
  validate?: boolean;
  /** Wafer-level baselines to judge against and write re-baselines to (default: a fresh temporary folder). */
  baselinesDir?: string;
  /**
   * Re-baseline every station's wafer models from its next N wafers each time it leaves SCHEDULED_DOWN (a PM),
   * as an engineer would with `POST /api/stations/:station/baseline`; 0 or unset: never.
   */
  rebaselineAfterPm?: number;
  /** The recording's entries when the caller already holds them (a benchmark); default: read from the file. */
  entries?: AsyncIterable<RecordingEntry> | Iterable<RecordingEntry>;
}

/**
 * Entries fed before the pipeline is drained. Each drain is one onnxruntime call per model file in use (up to
 * batchMax rows), so a bigger chunk means bigger batches; it also bounds the memory of snapshots in flight.
 */
const CHUNK = 16384;

function key(line: string, station: string): string {
  return `${line}/${station}`;
}

/**
 * Plays one recording through the live detector's own components (StationTracker, ModelRegistry, Scorer,
 * decide): the same event bus and the same code, with the broker and the store left out and the clock taken
 * from the data. Nothing here decides anything; it only feeds and listens.
 */
export async function runRecording(file: string, opts: OfflineRunOptions): Promise<RunTrace> {
  const header = await readHeader(file);
  const logger = opts.logger.child({ module: 'backtest', file });
  const metrics = new DetectorMetrics();
  const bus = new EventBus(logger, metrics);
  // No reload polling: a file changing mid-run must not change what a backtest measures.
  const registry = new ModelRegistry({ modelsDir: opts.modelsDir, loadModel: opts.loadModel, logger, reloadIntervalMs: 0 });
  const scorer = new Scorer({ batchMax: opts.batchMax ?? 1024, batchWaitMs: 0, metrics, logger });
  let clock = header.start;
  const tracker = new StationTracker({ bus, registry, scorer, metrics, logger, ...opts.rules, now: () => clock, offlineTimer: false });
  const waferRegistry = new ModelRegistry({ modelsDir: path.join(opts.modelsDir, WAFER_MODELS_DIR), loadModel: opts.loadModel, logger, reloadIntervalMs: 0 });
  // Each run starts from the models' own baselines; re-baselines after a PM are written to a folder of its own.
  const ownBaselines = opts.baselinesDir === undefined ? await mkdtemp(path.join(tmpdir(), 'linewatch-backtest-baselines-')) : undefined;
  const baselines = new BaselineStore(opts.baselinesDir ?? (ownBaselines as string));
  const wafers = new WaferMonitor({
    bus, registry: waferRegistry, baselines, metrics, logger, qualityIssue: (line, station) => tracker.hasQualityIssue(line, station),
    ...(opts.rules.warmupMs !== undefined ? { warmupMs: opts.rules.warmupMs } : {}),
  });
  const stations = new Map<string, StationTrace>();
  const pointLabels: PointLabels = new Map();
  const truth = new TruthCollector();
  const anomalies: RunTrace['anomalies'] = [];
  const trainRows = opts.trainRows ?? 0;

  const trace = (line: string, station: string): StationTrace => {
    let t = stations.get(key(line, station));
    if (!t) {
      t = { line, station, type: undefined, ts: [], seq: [], score: [], threshold: [], anomalous: [], health: [], label: [], received: 0, lastTs: 0, overlays: [], states: [], transitions: [], wafers: [], unscored: 0, trainedUntil: null };
      stations.set(key(line, station), t);
    }
    return t;
  };
  const onScore = (p: ScorePoint): void => {
    const t = trace(p.line, p.station);
    t.ts.push(p.ts);
    t.seq.push(p.seq);
    t.score.push(p.score);
    t.threshold.push(p.threshold);
    t.anomalous.push(p.anomalous);
    t.health.push(p.health);
  };
  tracker.start();
  wafers.start();
  bus.on('wafer', ({ verdict: v }) => {
    // One alert per recipe step, as the API keys them: two recipes sharing a step name are two.
    const step = v.recipe ? `${v.recipe}/${v.step}` : v.step;
    trace(v.line, v.station).wafers.push({ ts: v.end, start: v.start, wafer: v.wafer, step, verdict: v.verdict, score: v.score / v.threshold });
  });
  bus.on('score', ({ point }) => onScore(point));
  bus.on('status', ({ status, healthChanged }) => {
    if (healthChanged) trace(status.line, status.station).transitions.push({ ts: status.health === 'OFFLINE' ? status.since : status.ts, health: status.health });
    // Snapshots shown without a score: OFFLINE (declared on the data clock when the silence is noticed, `since`),
    // and UNMODELLED or DATA_QUALITY with no score (a scored snapshot can show DATA_QUALITY too: it is in the trace).
    const unscored = status.health === 'OFFLINE' || ((status.health === 'DATA_QUALITY' || status.health === 'UNMODELLED') && status.score === null);
    const t = trace(status.line, status.station);
    const ts = status.health === 'OFFLINE' ? status.since : status.ts;
    const last = t.overlays.at(-1);
    // A status re-sent for the same snapshot (a wafer verdict refreshes it) is one snapshot, not two.
    if (unscored && !(last && last.ts === ts && last.health === status.health)) t.overlays.push({ ts, health: status.health });
  });
  bus.on('anomaly', ({ anomaly }) => {
    anomalies.push(anomaly);
  });

  // The live detector looks for silent stations every offlineAfterMs / 4 of wall time; offline, of data time.
  const offlineEvery = Math.max(1, Math.floor(opts.rules.offlineAfterMs / 4));
  let offlineCheckedAt = clock;
  const feed = (entry: RecordingEntry): void => {
    clock = Math.max(clock, entry.at);
    if (clock - offlineCheckedAt >= offlineEvery) {
      offlineCheckedAt = clock;
      tracker.checkOffline();
    }
    switch (entry.kind) {
      case 'telemetry': {
        const t = trace(entry.line, entry.station);
        t.received++;
        t.lastTs = Math.max(t.lastTs, entry.msg.ts);
        if (t.received === trainRows) t.trainedUntil = entry.msg.ts;
        if (entry.label !== undefined) {
          let labels = pointLabels.get(key(entry.line, entry.station));
          if (!labels) pointLabels.set(key(entry.line, entry.station), (labels = new Map()));
          labels.set(entry.msg.seq, { ts: entry.msg.ts, label: entry.label, fault: entry.fault });
        }
        bus.emit('telemetry', { line: entry.line, station: entry.station, telemetry: entry.msg, receivedAt: entry.at });
        break;
      }
      case 'meta':
        trace(entry.line, entry.station).type = entry.msg.type;
        bus.emit('meta', { meta: entry.msg });
        break;
      case 'state': {
        const t = trace(entry.line, entry.station);
        const before = t.states.at(-1)?.state;
        t.states.push({ since: entry.msg.since, state: entry.msg.state });
        bus.emit('state', { line: entry.line, station: entry.station, state: entry.msg });
        // What an engineer does after a PM: re-baseline the wafer models from the next wafers (POST .../baseline).
        if (opts.rebaselineAfterPm && before === 'SCHEDULED_DOWN' && entry.msg.state !== 'SCHEDULED_DOWN') {
          const id = `backtest/pm/${entry.line}/${entry.station}/${entry.msg.since}`;
          bus.emit('command', { line: entry.line, station: entry.station, command: { type: 'rebaseline', id, wafers: opts.rebaselineAfterPm, requestedAt: entry.msg.since, reason: 'after PM' } });
        }
        break;
      }
      case 'truth':
        truth.add(entry.msg);
        break;
    }
  };
  const settle = async (): Promise<void> => {
    await tracker.routed();
    await scorer.drain();
    await wafers.settled();
  };

  try {
    await Promise.all([registry.start(), waferRegistry.start()]);
    // Entries are fed a chunk at a time in one synchronous burst: fed as the file is read, the scorer would
    // flush between two reads and score a handful of rows per onnxruntime call.
    let chunk: RecordingEntry[] = [];
    const feedChunk = async (): Promise<void> => {
      for (const entry of chunk) feed(entry);
      chunk = [];
      await settle();
    };
    for await (const entry of opts.entries ?? readEntries(file, { validate: opts.validate ?? true })) {
      chunk.push(entry);
      if (chunk.length >= CHUNK) await feedChunk();
    }
    await feedChunk();
  } finally {
    await tracker.stop();
    await wafers.stop();
    await scorer.stop();
    await registry.stop();
    await waferRegistry.stop();
    if (ownBaselines) await rm(ownBaselines, { recursive: true, force: true });
  }

  const run = header.run ?? file.replace(/^.*[\\/]/, '').replace(/\.jsonl\.gz$/, '');
  const traces = [...stations.values()].sort((a, b) => a.line.localeCompare(b.line) || a.station.localeCompare(b.station));
  const windows = faultWindows(run, header, truth, pointLabels);
  for (const t of traces) {
    t.unscored = t.received - t.ts.length;
    const labels = pointLabels.get(key(t.line, t.station));
    const stationWindows = windows.filter((w) => w.line === t.line && w.station === t.station);
    const hasTruth = header.labels === 'truth' || header.labels === 'both';
    t.label = t.seq.map((seq, i) => {
      const point = labels?.get(seq);
      if (point && point.ts === t.ts[i]) return point.label;
      if (!hasTruth) return null;
      const ts = t.ts[i] as number;
      return stationWindows.some((w) => w.source === 'truth' && ts >= w.start && ts <= w.end) ? 1 : 0;
    });
  }
  // Snapshots a time-aware model could not score yet (the first ones of each step): counted by the tracker.
  const warmingUp = (await metrics.unscored.get()).values.find((v) => v.labels.reason === 'warming_up')?.value ?? 0;
  return { run, file, header, stations: traces, windows, anomalies, warmingUp };
}
