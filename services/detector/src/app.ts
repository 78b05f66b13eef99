import path from 'node:path';
import { topicSafe } from '@linewatch/protocol';
import type { Store } from '@linewatch/store';
import type pino from 'pino';
import type prom from 'prom-client';
import type { DetectorConfig } from './config.js';
import { DeadLetterer } from './dead-letter.js';
import { EventBus } from './event-bus.js';
import { DetectorHttp } from './http.js';
import { Journal } from './journal.js';
import { DetectorMetrics, type DetectorStats } from './metrics.js';
import { ModelRegistry } from './model-registry.js';
import { loadOnnxModel } from './model/onnx-model.js';
import type { StationModel } from './model/types.js';
import { MqttIngest } from './mqtt-ingest.js';
import { Publisher } from './publisher.js';
import { Scorer } from './scorer.js';
import { HealthReporter } from './service-health.js';
import { StationTracker } from './station-tracker.js';
import { StoreWriter } from './store-writer.js';
import { BaselineStore } from './wafer/baselines.js';
import { WAFER_MODELS_DIR } from './wafer/wafer-train.js';
import { WaferMonitor } from './wafer/wafer-monitor.js';

export { loadDetectorConfig, type DetectorConfig } from './config.js';
export type { DetectorStats } from './metrics.js';
export { decide, type Decision, type DecisionState } from './decision.js';

export interface DetectorDeps {
  store: Store;
  logger: pino.Logger;
  /** Loads one model file; defaults to onnxruntime-node. Tests and backtests may inject their own. */
  loadModel?: (path: string) => Promise<StationModel>;
}

export interface Detector {
  start(): Promise<void>;
  /** Stops ingest, scores and stores everything accepted, publishes the last statuses, then closes. */
  stop(): Promise<void>;
  readonly metrics: prom.Registry;
  /** Actual HTTP port once started (useful with HTTP_PORT=0); undefined when disabled or stopped. */
  readonly httpPort: number | undefined;
  stats(): DetectorStats;
}

/** Scoring backlog (snapshots) at which ingest also holds its acks. */
const SCORE_BACKLOG_MAX_BATCHES = 64;

/** Builds the detector; nothing connects until start(). The store must already be init()ed. */
export function createDetector(config: DetectorConfig, deps: DetectorDeps): Detector {
  const logger = deps.logger.child({ service: 'detector' });
  const metrics = new DetectorMetrics();
  const bus = new EventBus(logger.child({ module: 'event-bus' }), metrics);
  const writer = new StoreWriter({
    store: deps.store,
    metrics,
    logger,
    options: {
      batchMax: config.writeBatchMax, flushMs: config.writeFlushMs, bufferMax: config.writeBufferMax, writeTimeoutMs: config.writeTimeoutMs,
      // One folder per client id: partitions on one host never share a journal, and a restarted instance finds its own.
      journal: config.journal.maxBytes > 0 ? new Journal({ dir: path.join(config.journal.dir, topicSafe(config.mqtt.clientId)), maxBytes: config.journal.maxBytes }) : undefined,
    },
  });
  const scorer = new Scorer({ batchMax: config.batchMax, batchWaitMs: config.batchWaitMs, metrics, logger });
  const loadModel = deps.loadModel ?? loadOnnxModel;
  const registry = new ModelRegistry({ modelsDir: config.modelsDir, loadModel, logger, reloadIntervalMs: config.modelReloadMs });
  // Wafer models live apart (`{MODELS_DIR}/wafer/{type}/{recipe--step}.onnx`): they score a step's indicators, not a snapshot.
  const waferRegistry = new ModelRegistry({ modelsDir: path.join(config.modelsDir, WAFER_MODELS_DIR), loadModel, logger, reloadIntervalMs: config.modelReloadMs });
  const scoreBacklogMax = config.batchMax * SCORE_BACKLOG_MAX_BATCHES;
  // The publish path is the ingest's broker link; the closure lets the publisher and dead-letterer exist first
  // (nothing publishes before start(), by which time `ingest` exists).
  const publish = (topic: string, payload: string, opts: { qos: 0 | 1; retain: boolean }) => ingest.publish(topic, payload, opts);
  const deadLetters = new DeadLetterer({
    logger: logger.child({ module: 'dead-letter' }), metrics, publish, service: 'detector',
    publishPerS: config.deadLetterRate.perS, publishBurst: config.deadLetterRate.burst,
  });
  const health = new HealthReporter({ instance: config.mqtt.clientId, line: config.line, storage: () => writer.storage, publish, logger });
  const ingest: MqttIngest = new MqttIngest({
    config,
    bus,
    deadLetters,
    metrics,
    logger,
    backpressure: () => writer.full || scorer.backlog >= scoreBacklogMax,
    waitForRoom: async () => {
      await writer.waitForRoom();
      await scorer.waitForBacklogBelow(scoreBacklogMax);
    },
    // Each stage settles what it was handed before the next is asked: routed to the scorer, scored (so scores and
    // anomalies reach the writer), then written or journaled.
    durable: async () => {
      await tracker.routed();
      await scorer.drain();
      await writer.durable(true);
    },
    will: health.will(),
    onConnected: () => health.connected(),
  });
  const tracker = new StationTracker({
    bus, registry, scorer, metrics, logger,
    warnAfter: config.warnAfter, alarmAfter: config.alarmAfter, clearAfter: config.clearAfter, offlineAfterMs: config.offlineAfterMs,
    quality: config.quality, warmupMs: config.warmupMs, alarmFactor: config.alarmFactor, spcAlarm: config.spcAlarm,
  });
  const wafers = new WaferMonitor({ bus, registry: waferRegistry, baselines: new BaselineStore(config.waferBaselinesDir), metrics, logger, warmupMs: config.warmupMs,
    qualityIssue: (line, station) => tracker.hasQualityIssue(line, station),
  });
  const publisher = new Publisher({ bus, publish, metrics, logger, minIntervalMs: config.statusMinIntervalMs });
  const http = new DetectorHttp({
    port: config.httpPort,
    host: config.httpHost,
    registry: metrics.registry,
    logger,
    ready: async () => {
      const storage = writer.storage;
      const reachable = await deps.store.ping().catch(() => false);
      const degraded = storage.state === 'degraded' || !reachable;
      const checks = { broker: ingest?.connected ?? false, store: !degraded, storage: degraded ? 'degraded' : 'ok' };
      const journal = { bytes: storage.journalBytes, points: storage.journalPoints, droppedJournalFull: storage.droppedJournalFull };
      return { ready: checks.broker && checks.store, checks, journal, buffered: storage.buffered };
    },
  });
  bus.on('reading', ({ point }) => writer.addReading(point));
  bus.on('score', ({ point }) => writer.addScore(point));
  bus.on('anomaly', ({ anomaly }) => writer.addAnomaly(anomaly));
  bus.on('wafer', ({ verdict }) => writer.addWaferVerdict(verdict));
  // Every instance receives every station's state (never partitioned) and writes it: keyed by (line, station,
  // since), the copies of other instances and a retained message redelivered on reconnect overwrite themselves.
  bus.on('state', ({ line, station, state: s }) =>
    writer.addState({ line, station, ts: s.since, state: s.state, reason: s.reason, replay: s.replay }),
  );

  // A detector runs once: start() after stop() is a no-op, since its components hold no reset path.
  let started = false;
  let stopped = false;
  return {
    async start() {
      if (started || stopped) return;
      started = true;
      await writer.start();
      publisher.start();
      health.start();
      tracker.start();
      wafers.start();
      await http.start();
      const began = Date.now();
      const [loaded, waferModels] = await Promise.all([registry.start(), waferRegistry.start()]);
      logger.info({ models: loaded, waferModels, ms: Date.now() - began, modelsDir: config.modelsDir }, 'models loaded');
      await ingest.start();
      logger.info(
        { line: config.line, mode: config.subscriptionMode, partition: config.partition, modelsDir: config.modelsDir, clientId: config.mqtt.clientId },
        'detector started',
      );
    },
    async stop() {
      if (!started || stopped) return;
      stopped = true;
      // Reverse order of the data flow: nothing new comes in, then every stage drains into the next.
      ingest.pause();
      await tracker.stop();
      // Steps still open get their verdict from what arrived; their anomalies still reach the writer.
      await wafers.stop();
      await scorer.stop();
      publisher.stop();
      health.stop();
      // Messages still waiting for their ack are acknowledged only if the writer kept everything (written or
      // journaled); otherwise the broker redelivers them to the next run.
      const kept = await writer.stop();
      await ingest.stop(kept);
      await registry.stop();
      await waferRegistry.stop();
      await http.stop();
      logger.info({ stats: metrics.stats }, 'detector stopped');
    },
    get metrics() {
      return metrics.registry;
    },
    get httpPort() {
      return http.port;
    },
    stats: () => ({ ...metrics.stats }),
  };
}
