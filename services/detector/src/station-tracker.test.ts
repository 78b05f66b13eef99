import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StationStatusSchema, type DataQualityEvent, type ModelMetadata, type StationStatus, type Telemetry } from '@linewatch/protocol';
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
  let anomalySeqs: number[];
  let quality: DataQualityEvent[];

  const send = (station: string, seq: number, values: Record<string, number>, ts = 1000 + seq) => {
    const telemetry: Telemetry = { ts, seq, values };
    bus.emit('telemetry', { line: 'l1', station, telemetry, receivedAt: Date.now() });
  };
  const last = (station: string) => statuses.filter((s) => s.station === station).at(-1);
  const healths = (station = 'e1') => statuses.filter((s) => s.station === station).map((s) => s.health);
  const setState = (state: 'PRODUCTIVE' | 'STANDBY' | 'SCHEDULED_DOWN') => bus.emit('state', { line: 'l1', station: 'e1', state: { state, since: 0 } });
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
    tracker = new StationTracker({
      bus, registry, scorer, metrics, logger, warnAfter: 1, alarmAfter: 3, clearAfter: 2, offlineAfterMs: 150,
      quality: { stuckAfter: 4, clearAfter: 2, maxClockSkewMs: 5000 }, warmupMs: 5,
    });
    statuses = [];
    readings = [];
    scores = [];
    anomalies = 0;
    anomalySeqs = [];
    quality = [];
    bus.on('status', ({ status }) => void statuses.push(status));
    bus.on('reading', ({ point }) => void readings.push(point));
    bus.on('score', ({ point }) => void scores.push(point));
    bus.on('anomaly', ({ anomaly }) => {
      anomalies++;
      anomalySeqs.push(anomaly.seq);
    });
    bus.on('quality', ({ event }) => void quality.push(event));
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

  it('takes a huge seq with a plausible ts as a gap, and the real readings after it as a counter reset, scored', async () => {
    // A hostile or broken sender injects seq 10^12 stamped among the real readings: the next real ones (lower seq,
    // newer ts) count as the sender restarting its counter, so they are scored, not dropped as late.
    send('e1', 0, { p: 0, q: 0 }, 1000);
    send('e1', 1, { p: 0, q: 0 }, 1001);
    send('e1', 1e12, { p: 0, q: 0 }, 1002);
    send('e1', 2, { p: 0, q: 0 }, 1003);
    send('e1', 3, { p: 0, q: 0 }, 1004);
    await drain();
    expect(scores.map((s) => s.seq)).toEqual([0, 1, 1e12, 2, 3]);
    expect(metrics.stats).toMatchObject({ gaps: 1, outOfOrder: 0, duplicates: 0 });
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
    expect(last('e1')?.quality).toEqual([{ kind: 'missing_sensor', sensor: 'q', since: 1000, detail: 'absent from the snapshot; the model needs it' }]);
    // Scored as soon as q is back, but the issue holds for QUALITY_CLEAR_AFTER (2) clean snapshots.
    send('e1', 1, { p: 0, q: 0 });
    send('e1', 2, { p: 0, q: 0 });
    await drain();
    expect(statuses.filter((s) => s.station === 'e1').map((s) => [s.health, s.score])).toEqual([['DATA_QUALITY', null], ['DATA_QUALITY', 0], ['OK', 0]]);
    expect(last('e1')?.quality).toBeUndefined();
    expect(quality.map((e) => [e.state, e.kind, e.sensor, e.ts])).toEqual([['raised', 'missing_sensor', 'q', 1000], ['cleared', 'missing_sensor', 'q', 1002]]);
  });

  it('carries the process context of the latest scored snapshot in the status, and leaves it out when there is none', async () => {
    const context = { recipe: 'ETCH-AL-01', step: 'main_etch', lot: 'L0001', wafer: 'L0001-03' };
    const sendWith = (seq: number, ctx: Telemetry['context']) =>
      bus.emit('telemetry', { line: 'l1', station: 'e1', telemetry: { ts: 1000 + seq, seq, values: { p: 0, q: 0 }, ...(ctx ? { context: ctx } : {}) }, receivedAt: Date.now() });
    sendWith(0, context);
    sendWith(1, { ...context, wafer: 'L0001-04' });
    sendWith(2, undefined);
    sendWith(3, {});
    sendWith(4, { lot: 'L0002' });
    await drain();
    expect(statuses.map((s) => s.context)).toEqual([context, { ...context, wafer: 'L0001-04' }, undefined, undefined, { lot: 'L0002' }]);
    // Left out, not set to undefined or {}: the retained status is JSON, and the schema takes it as it is.
    expect(statuses[2]).not.toHaveProperty('context');
    expect(statuses[3]).not.toHaveProperty('context');
    expect(StationStatusSchema.parse(JSON.parse(JSON.stringify(statuses[1])))).toEqual(statuses[1]);
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

  // Data quality. The identity model scores p, so every snapshot with p = 5 below is anomalous: three in a row
  // raise ALARM when the data is clean (first test). Here none may, whatever the scores say.
  const normal = (i: number) => ({ p: (i % 2) * 0.5, q: 0 });

  it('shows a sensor stuck on an abnormal value as DATA_QUALITY: scored and stored, never ALARM', async () => {
    // 200 snapshots of history (the least before a stuck verdict) in which p moves every time; q never moves,
    // so it is constant by nature and never stuck.
    for (let seq = 0; seq < 200; seq++) send('e1', seq, normal(seq));
    for (let seq = 200; seq < 210; seq++) send('e1', seq, { p: 5, q: 0 });
    await drain();
    expect(scores).toHaveLength(210);
    expect(readings).toHaveLength(210);
    // 200 is one anomalous sample (WARN); 201 and 202 repeat p, so they wait; at 203 p is stuck (STUCK_AFTER 4).
    expect(healths().slice(200)).toEqual(['WARN', 'WARN', 'WARN', ...Array<string>(7).fill('DATA_QUALITY')]);
    expect(anomalies).toBe(0);
    expect(scores.filter((p) => p.health === 'ALARM')).toEqual([]);
    expect(scores.slice(203).every((p) => p.anomalous && p.health === 'DATA_QUALITY')).toBe(true);
    const stuck = { kind: 'stuck', sensor: 'p', since: 1203, detail: '4 identical readings of 5 in a row' };
    expect(last('e1')?.quality).toEqual([stuck]);
    expect(last('e1')?.contributors).toEqual([]);
    expect(quality).toEqual([{ ...stuck, line: 'l1', station: 'e1', ts: 1203, state: 'raised' }]);
    // p moves again: cleared after two clean snapshots, then judged afresh.
    for (let seq = 210; seq < 214; seq++) send('e1', seq, normal(seq));
    await drain();
    expect(healths().slice(210)).toEqual(['DATA_QUALITY', 'WARN', 'OK', 'OK']);
    expect(quality.map((e) => [e.state, e.ts])).toEqual([['raised', 1203], ['cleared', 1211]]);
    expect(anomalies).toBe(0);
    expect(metrics.stats).toMatchObject({ qualityIssues: 1, unjudged: 2 + 8 });
    expect(await metrics.registry.getSingleMetricAsString('linewatch_data_quality_issues_total')).toContain('kind="stuck"} 1');
  });

  it('shows a reading outside its physical range as DATA_QUALITY from the first one, never ALARM', async () => {
    // The meta gives p a range of 0..9.
    for (let seq = 0; seq < 5; seq++) send('e1', seq, { p: 50, q: 0 });
    send('e1', 5, { p: 0, q: 0 });
    send('e1', 6, { p: 0, q: 0 });
    await drain();
    expect(healths()).toEqual(['DATA_QUALITY', 'DATA_QUALITY', 'DATA_QUALITY', 'DATA_QUALITY', 'DATA_QUALITY', 'DATA_QUALITY', 'OK']);
    expect(scores.map((p) => p.score)).toEqual([50, 50, 50, 50, 50, 0, 0]);
    expect(anomalies).toBe(0);
    expect(quality.map((e) => [e.state, e.kind, e.sensor, e.detail, e.ts])).toEqual([
      ['raised', 'out_of_range', 'p', '50 outside 0..9', 1000],
      ['cleared', 'out_of_range', 'p', '50 outside 0..9', 1006],
    ]);
  });

  it('shows a seq gap as DATA_QUALITY until clean snapshots follow; only anomalies after it count', async () => {
    send('e1', 0, normal(0));
    send('e1', 1, normal(1));
    for (let seq = 5; seq < 10; seq++) send('e1', seq, { p: 5 + seq / 10, q: 0 });
    await drain();
    // 5 and 6 fall under the gap; 7 is the first judged anomalous sample, so ALARM comes at 9, not at 7.
    expect(healths()).toEqual(['OK', 'OK', 'DATA_QUALITY', 'DATA_QUALITY', 'WARN', 'WARN', 'ALARM']);
    expect(anomalySeqs).toEqual([9]);
    expect(quality.map((e) => [e.state, e.kind, e.sensor, e.detail, e.ts])).toEqual([
      ['raised', 'seq_gap', undefined, '3 snapshot(s) missing before seq 5', 1005],
      ['cleared', 'seq_gap', undefined, '3 snapshot(s) missing before seq 5', 1007],
    ]);
  });

  it('shows a live clock running ahead as DATA_QUALITY, never ALARM; replays are not checked against arrival', async () => {
    bus.emit('meta', { meta: { line: 'l1', station: 'e2', type: 'etch', name: 'e2', order: 1, sensors: [{ name: 'p', unit: '', min: 0, max: 9 }] } });
    const now = Date.now();
    for (let seq = 0; seq < 4; seq++) {
      bus.emit('telemetry', { line: 'l1', station: 'e1', telemetry: { ts: now + 8000 + seq, seq, values: { p: 5 + seq / 10, q: 0 } }, receivedAt: now + seq });
      bus.emit('telemetry', { line: 'l1', station: 'e2', telemetry: { ts: now + 8000 + seq, seq, values: { p: 0, q: 0 }, replay: true }, receivedAt: now + seq });
    }
    await drain();
    expect(healths('e1')).toEqual(Array(4).fill('DATA_QUALITY'));
    expect(anomalies).toBe(0);
    expect(quality.map((e) => [e.station, e.state, e.kind, e.detail])).toEqual([['e1', 'raised', 'clock_skew', 'ts 8000 ms ahead of arrival']]);
    expect(last('e1')?.quality?.map((i) => i.kind)).toEqual(['clock_skew']);
    expect(healths('e2')).toEqual(['OK', 'OK', 'OK', 'OK']);
    expect(last('e2')).toMatchObject({ replay: true });
    expect(last('e2')?.quality).toBeUndefined();
  });

  it('does not alarm in PM nor while warming up after it, then alarms as usual', async () => {
    setState('SCHEDULED_DOWN');
    for (let seq = 0; seq < 4; seq++) send('e1', seq, { p: 5 + seq / 10, q: 0 });
    await drain();
    expect(healths()).toEqual(['WARN', 'WARN', 'WARN', 'WARN']);
    setState('PRODUCTIVE');
    // WARMUP_MS = 5 of reading time: ts 1004..1008 are not judged. The health stays what it was.
    for (let seq = 4; seq < 9; seq++) send('e1', seq, { p: 5 + seq / 10, q: 0 });
    await drain();
    expect(healths().slice(4)).toEqual(['WARN', 'WARN', 'WARN', 'WARN', 'WARN']);
    expect(anomalies).toBe(0);
    expect(metrics.stats.unjudged).toBe(5);
    expect(await metrics.registry.getSingleMetricAsString('linewatch_unjudged_readings_total')).toContain('reason="warmup"} 5');
    // Judged again from ts 1009, counting afresh: the PM's anomalous samples do not carry over.
    for (let seq = 9; seq < 12; seq++) send('e1', seq, { p: 5 + seq / 10, q: 0 });
    await drain();
    expect(healths().slice(9)).toEqual(['WARN', 'WARN', 'ALARM']);
    expect(anomalySeqs).toEqual([11]);
  });

  it('judges a tool back from STANDBY at once: it idles there between wafers', async () => {
    setState('STANDBY');
    send('e1', 0, normal(0));
    setState('PRODUCTIVE');
    for (let seq = 1; seq < 4; seq++) send('e1', seq, { p: 5 + seq / 10, q: 0 });
    await drain();
    expect(healths()).toEqual(['OK', 'WARN', 'WARN', 'ALARM']);
    expect(anomalySeqs).toEqual([3]);
    expect(metrics.stats.unjudged).toBe(0);
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
      // Scored again at once; DATA_QUALITY until the missing sensor has been back for QUALITY_CLEAR_AFTER snapshots.
      [1004, 'DATA_QUALITY', 'etch#idle'], [1005, 'DATA_QUALITY', 'etch#R1/slow'], [1006, 'DATA_QUALITY', 'etch#R1/fast'],
    ]);
    // Each status carries the context of its own snapshot, whichever model finished first; none without one.
    expect(statuses.map((s) => s.context)).toEqual(contexts);
    expect(statuses[2]).not.toHaveProperty('context');
  });
});
