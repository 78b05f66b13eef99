import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ModelMetadata, StationStatus, Telemetry } from '@linewatch/protocol';
import type { ReadingPoint, ScorePoint } from '@linewatch/store';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EventBus } from './event-bus.js';
import { DetectorMetrics } from './metrics.js';
import { ModelRegistry, NOT_LOADED } from './model-registry.js';
import type { StationModel } from './model/types.js';
import { Scorer } from './scorer.js';
import { StationTracker } from './station-tracker.js';

/** A one-sensor model: the score is the reading itself, so tests pick anomalies by value. Batches are recorded. */
function identityModel(batches: number[]): StationModel {
  const meta: ModelMetadata = {
    contract: 'linewatch.model/1', family: 'test', version: 'etch@t', stationType: 'etch', features: ['p', 'q'],
    mean: [0, 0], std: [1, 1], threshold: 1, trainedAt: '2026-11-29T00:00:00Z', trainingSamples: 1,
  };
  return {
    meta,
    async score(rows, n) {
      batches.push(n);
      return Array.from({ length: n }, (_, i) => ({ score: rows[i * 2] as number, t2: 0, spe: 0, contrib: [0.9, 0.1], expected: [0, 0] }));
    },
    async release() {},
  };
}

describe('StationTracker', () => {
  let dir: string;
  let bus: EventBus;
  let metrics: DetectorMetrics;
  let registry: ModelRegistry;
  let scorer: Scorer;
  let tracker: StationTracker;
  let batches: number[];
  let statuses: StationStatus[];
  let readings: ReadingPoint[];
  let scores: ScorePoint[];
  let anomalies: number;

  const send = (station: string, seq: number, values: Record<string, number>, ts = 1000 + seq) => {
    const telemetry: Telemetry = { ts, seq, values };
    bus.emit('telemetry', { line: 'l1', station, telemetry, receivedAt: Date.now() });
  };
  const last = (station: string) => statuses.filter((s) => s.station === station).at(-1);
  /**
   * Waits until everything sent so far is routed, scored and decided: no sleeping for a guessed time. The
   * tracker's stop() only awaits routing and ends the OFFLINE timer (faked here anyway); bus handlers stay.
   */
  const drain = async () => {
    await tracker.stop();
    await scorer.stop();
  };

  beforeEach(async () => {
    // OFFLINE is about time: the tracker's check interval and its clock are faked, so tests move time by hand.
    // setTimeout/setImmediate stay real: the scorer batches with them and drain() flushes it anyway.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
    dir = await mkdtemp(join(tmpdir(), 'linewatch-tracker-'));
    await writeFile(join(dir, 'etch.onnx'), 'placeholder: loadModel below ignores the file');
    const logger = pino({ level: 'silent' });
    metrics = new DetectorMetrics();
    bus = new EventBus(logger, metrics);
    batches = [];
    const model = identityModel(batches);
    registry = new ModelRegistry({ modelsDir: dir, loadModel: async () => model, logger });
    scorer = new Scorer({ batchMax: 64, batchWaitMs: 2, metrics, logger });
    tracker = new StationTracker({ bus, registry, scorer, metrics, logger, warnAfter: 1, alarmAfter: 3, clearAfter: 2, offlineAfterMs: 150 });
    statuses = [];
    readings = [];
    scores = [];
    anomalies = 0;
    bus.on('status', ({ status }) => void statuses.push(status));
    bus.on('reading', ({ point }) => void readings.push(point));
    bus.on('score', ({ point }) => void scores.push(point));
    bus.on('anomaly', () => void anomalies++);
    tracker.start();
    bus.emit('meta', { meta: { line: 'l1', station: 'e1', type: 'etch', name: 'e1', order: 0, sensors: [{ name: 'p', unit: '', min: 0, max: 9 }] } });
  });
  afterEach(async () => {
    await drain();
    await registry.stop();
    vi.useRealTimers();
    await rm(dir, { recursive: true, force: true });
  });

  it('scores in batches, in order, and raises ALARM after three anomalous samples', async () => {
    for (let i = 0; i < 10; i++) send('e1', i, { p: i >= 4 && i < 7 ? 5 : 0, q: 0 });
    await drain();
    expect(scores.map((s) => s.seq)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(batches.reduce((a, b) => a + b, 0)).toBe(10);
    expect(batches.length).toBeLessThan(10);
    expect(statuses.map((s) => s.health)).toEqual(['OK', 'OK', 'OK', 'OK', 'WARN', 'WARN', 'ALARM', 'ALARM', 'OK', 'OK']);
    expect(anomalies).toBe(1);
    expect(statuses[6]).toMatchObject({ since: 1006, score: 5, threshold: 1, modelVersion: 'etch@t' });
    expect(statuses[6]!.contributors[0]).toMatchObject({ sensor: 'p', value: 5, contribution: 0.9 });
    expect(statuses[8]!.contributors).toEqual([]);
  });

  it('decides with the equipment state the snapshot arrived in, not one that came after it', async () => {
    for (let seq = 0; seq < 3; seq++) send('e1', seq, { p: 5, q: 0 });
    // The tool goes down after the three snapshots arrived but before they are scored.
    bus.emit('state', { line: 'l1', station: 'e1', state: { state: 'UNSCHEDULED_DOWN', since: 1003 } });
    await drain();
    expect(last('e1')?.health).toBe('ALARM');
    send('e1', 3, { p: 5, q: 0 });
    await drain();
    expect(anomalies).toBe(1);
  });

  it('stores duplicates and late snapshots without scoring them twice, and counts gaps', async () => {
    // ts = 1000 + seq, so the second seq 0 is older than what came before it: late, not a counter reset.
    for (const seq of [0, 1, 1, 0, 5, 6]) send('e1', seq, { p: 0, q: 0 });
    await drain();
    expect(readings.map((r) => r.seq)).toEqual([0, 1, 1, 0, 5, 6]);
    expect(scores.map((s) => s.seq)).toEqual([0, 1, 5, 6]);
    expect(metrics.stats).toMatchObject({ duplicates: 1, outOfOrder: 1, gaps: 1 });
  });

  it('does not raise ALARM while the tool is down', async () => {
    bus.emit('state', { line: 'l1', station: 'e1', state: { state: 'UNSCHEDULED_DOWN', since: 0 } });
    for (let i = 0; i < 5; i++) send('e1', i, { p: 5, q: 0 });
    await drain();
    expect(scores).toHaveLength(5);
    expect(statuses.map((s) => s.health)).toEqual(['WARN', 'WARN', 'WARN', 'WARN', 'WARN']);
    expect(anomalies).toBe(0);
  });

  it('marks a station without a model UNMODELLED and one missing features DATA_QUALITY, storing both', async () => {
    send('nomodel', 0, { p: 5 });
    send('e1', 0, { p: 5 });
    await drain();
    expect(readings).toHaveLength(2);
    expect(scores).toHaveLength(0);
    expect(last('nomodel')).toMatchObject({ health: 'UNMODELLED', score: null, modelVersion: null });
    expect(last('e1')).toMatchObject({ health: 'DATA_QUALITY', score: null, modelVersion: 'etch@t' });
    send('e1', 1, { p: 0, q: 0 });
    await drain();
    expect(last('e1')).toMatchObject({ health: 'OK', score: 0 });
  });

  it('goes OFFLINE after OFFLINE_AFTER_MS without telemetry and recovers on the next snapshot', async () => {
    // drain() would end the (fake) OFFLINE interval, so this test waits on the outcome instead, with a bound.
    const health = () => last('e1')?.health;
    send('e1', 0, { p: 0, q: 0 });
    await vi.waitFor(() => expect(health()).toBe('OK'), { timeout: 5_000, interval: 5 });
    // Exactly OFFLINE_AFTER_MS of silence is still online; the first check after it is not.
    vi.advanceTimersByTime(150);
    expect(health()).toBe('OK');
    vi.advanceTimersByTime(50);
    expect(health()).toBe('OFFLINE');
    // Staying silent does not repeat the transition.
    vi.advanceTimersByTime(5_000);
    expect(statuses.filter((s) => s.health === 'OFFLINE')).toHaveLength(1);
    expect(statuses.map((s) => s.health)).toEqual(['OK', 'OFFLINE']);
    send('e1', 1, { p: 0, q: 0 });
    await drain();
    expect(health()).toBe('OK');
    expect(statuses.map((s) => s.health)).toEqual(['OK', 'OFFLINE', 'OK']);
  });
});

describe('StationTracker while a model set loads', () => {
  it('keeps arrival order when snapshots queued behind the load meet ones that could be routed at once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'linewatch-tracker-load-'));
    // The station's own set (no meta, so no type to fall back on).
    await writeFile(join(dir, 'e1.onnx'), 'placeholder');
    const logger = pino({ level: 'silent' });
    const metrics = new DetectorMetrics();
    const bus = new EventBus(logger, metrics);
    let loaded!: (model: StationModel) => void;
    const pending = new Promise<StationModel>((resolve) => (loaded = resolve));
    const registry = new ModelRegistry({ modelsDir: dir, loadModel: () => pending, logger });
    const scorer = new Scorer({ batchMax: 64, batchWaitMs: 0, metrics, logger });
    const tracker = new StationTracker({ bus, registry, scorer, metrics, logger, warnAfter: 1, alarmAfter: 3, clearAfter: 2, offlineAfterMs: 10_000 });
    const seqs: number[] = [];
    bus.on('score', ({ point }) => void seqs.push(point.seq));
    tracker.start();
    const send = (seq: number) => bus.emit('telemetry', { line: 'l1', station: 'e1', telemetry: { ts: 1000 + seq, seq, values: { p: 0, q: 0 } }, receivedAt: 0 });
    for (let seq = 0; seq < 5; seq++) send(seq);
    loaded(identityModel([]));
    // The set is loaded now, but seq 0-4 still wait in the chain: seq 5 must queue behind them.
    await registry.resolve('e1', undefined);
    expect(registry.resolveLoaded('e1', undefined)).not.toBe(NOT_LOADED);
    send(5);
    await tracker.routed();
    // Nothing waits any more: seq 6 takes the direct path.
    send(6);
    await tracker.stop();
    await scorer.stop();
    await registry.stop();
    await rm(dir, { recursive: true, force: true });
    expect(seqs).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });
});

describe('StationTracker with context models', () => {
  /** Scores like identityModel, after `delayMs`, under its own context and version. */
  function contextModel(version: string, context: ModelMetadata['context'], delayMs: number): StationModel {
    const model = identityModel([]);
    return {
      meta: { ...model.meta, version, ...(context ? { context } : {}) },
      async score(rows, n) {
        await new Promise((r) => setTimeout(r, delayMs));
        return model.score(rows, n);
      },
      async release() {},
    };
  }

  it('routes each snapshot to its step model and applies outcomes in arrival order however the models lag', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'linewatch-tracker-ctx-'));
    const logger = pino({ level: 'silent' });
    const metrics = new DetectorMetrics();
    const bus = new EventBus(logger, metrics);
    const models: Record<string, StationModel> = {
      [join(dir, 'etch.onnx')]: contextModel('etch#fallback', undefined, 0),
      [join(dir, 'etch', 'R1--slow.onnx')]: contextModel('etch#R1/slow', { recipe: 'R1', step: 'slow' }, 40),
      [join(dir, 'etch', 'R1--fast.onnx')]: contextModel('etch#R1/fast', { recipe: 'R1', step: 'fast' }, 0),
      [join(dir, 'etch', '_idle.onnx')]: contextModel('etch#idle', {}, 10),
    };
    await mkdir(join(dir, 'etch'));
    for (const file of Object.keys(models)) await writeFile(file, 'placeholder');
    const registry = new ModelRegistry({ modelsDir: dir, loadModel: async (file) => models[file]!, logger });
    const scorer = new Scorer({ batchMax: 64, batchWaitMs: 2, metrics, logger });
    const tracker = new StationTracker({ bus, registry, scorer, metrics, logger, warnAfter: 1, alarmAfter: 3, clearAfter: 2, offlineAfterMs: 10_000 });
    const scores: ScorePoint[] = [];
    const statuses: StationStatus[] = [];
    bus.on('score', ({ point }) => void scores.push(point));
    bus.on('status', ({ status }) => void statuses.push(status));
    tracker.start();
    bus.emit('meta', { meta: { line: 'l1', station: 'e1', type: 'etch', name: 'e1', order: 0, sensors: [{ name: 'p', unit: '', min: 0, max: 9 }] } });
    const contexts: (Telemetry['context'] | undefined)[] = [
      { recipe: 'R1', step: 'slow' }, { recipe: 'R1', step: 'fast' }, undefined, { recipe: 'R2', step: 'x' }, { step: 'idle' },
      { recipe: 'R1', step: 'slow' }, { recipe: 'R1', step: 'fast' },
    ];
    contexts.forEach((context, seq) => {
      // A missing sensor makes seq 3 DATA_QUALITY; its status must not overtake the slower scores before it.
      const values: Record<string, number> = seq === 3 ? { p: 0 } : { p: 0, q: 0 };
      bus.emit('telemetry', { line: 'l1', station: 'e1', telemetry: { ts: 1000 + seq, seq, values, ...(context ? { context } : {}) }, receivedAt: Date.now() });
    });
    // Drains routing, then every model's queue (the slow one included): no sleep needed.
    await tracker.stop();
    await scorer.stop();
    await registry.stop();
    await rm(dir, { recursive: true, force: true });
    expect(scores.map((s) => [s.seq, s.modelVersion])).toEqual([
      [0, 'etch#R1/slow'], [1, 'etch#R1/fast'], [2, 'etch#idle'], [4, 'etch#idle'], [5, 'etch#R1/slow'], [6, 'etch#R1/fast'],
    ]);
    expect(statuses.map((s) => [s.ts, s.health, s.modelVersion])).toEqual([
      [1000, 'OK', 'etch#R1/slow'], [1001, 'OK', 'etch#R1/fast'], [1002, 'OK', 'etch#idle'], [1003, 'DATA_QUALITY', 'etch#fallback'],
      [1004, 'OK', 'etch#idle'], [1005, 'OK', 'etch#R1/slow'], [1006, 'OK', 'etch#R1/fast'],
    ]);
  });
});
