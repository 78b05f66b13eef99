import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ModelMetadata, Telemetry, WaferVerdict } from '@linewatch/protocol';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventBus } from '../event-bus.js';
import { DetectorMetrics } from '../metrics.js';
import type { ModelRegistry } from '../model-registry.js';
import type { StationModel } from '../model/types.js';
import { BaselineStore } from './baselines.js';
import { WaferMonitor } from './wafer-monitor.js';

/** A wafer model over one indicator whose score is the step's sample count / 10: the verdict shows what was summed. */
const meta: ModelMetadata = {
  contract: 'linewatch.model/1', family: 'wafer-pca', version: 'etch-wafer@test', stationType: 'etch', context: { recipe: 'R', step: 'main' },
  features: ['x__mean'], mean: [0], std: [1], threshold: 1, trainedAt: '2026-01-01T00:00:00Z', trainingSamples: 50,
};
const model: StationModel = {
  meta,
  score: async (_rows, n) => Array.from({ length: n }, () => ({ score: lastSamples / 10, t2: Number.NaN, spe: Number.NaN })),
  release: async () => undefined,
};
let lastSamples = 0;
const registry = { resolve: async () => ({ model, path: 'etch.onnx' }) } as unknown as ModelRegistry;

let dir: string;
let bus: EventBus;
let metrics: DetectorMetrics;
let monitor: WaferMonitor;
let verdicts: WaferVerdict[];
/** Seqs the (stand-in) tracker found a data-quality issue in, and the seq being handled. */
let badData: Set<number>;
let current = -1;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'lw-wafer-monitor-'));
  metrics = new DetectorMetrics();
  bus = new EventBus(pino({ level: 'silent' }), metrics);
  badData = new Set();
  monitor = new WaferMonitor({
    bus, registry, baselines: new BaselineStore(dir), metrics, logger: pino({ level: 'silent' }), qualityIssue: () => badData.has(current),
  });
  monitor.start();
  verdicts = [];
  bus.on('wafer', ({ verdict }) => void verdicts.push(verdict));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function send(seq: number, step: string | undefined, x = 1): void {
  current = seq;
  const telemetry: Telemetry = { ts: 1_000_000 + seq * 1000, seq, values: { x }, context: step ? { recipe: 'R', step, lot: 'L1', wafer: 'W1' } : { step: 'idle' } };
  bus.emit('telemetry', { line: 'fab1', station: 'etch-01', telemetry, receivedAt: telemetry.ts });
}

describe('WaferMonitor', () => {
  it('judges a step when the next snapshot belongs to another step, with every snapshot summed once', async () => {
    const counted: number[] = [];
    bus.on('wafer', ({ verdict }) => void counted.push(verdict.samples));
    for (let seq = 0; seq < 6; seq++) send(seq, 'main');
    // A QoS 1 redelivery of seq 2 and a late seq 4: neither ends the step nor is summed again.
    send(2, 'main');
    send(4, undefined);
    send(6, 'main');
    lastSamples = 7;
    send(7, undefined);
    await monitor.settled();
    expect(counted).toEqual([7]);
    expect(verdicts[0]).toMatchObject({ wafer: 'W1', step: 'main', samples: 7, start: 1_000_000, end: 1_006_000, verdict: 'ok', modelVersion: 'etch-wafer@test' });
    const late = (await metrics.waferSteps.get()).values.find((v) => v.labels.reason === 'late_snapshot')?.value;
    expect(late).toBe(2);
  });

  it('gives a fault verdict and a wafer-level anomaly above the threshold, and none for a step cut short by a tool going down', async () => {
    const anomalies: string[] = [];
    bus.on('anomaly', ({ anomaly }) => void anomalies.push(`${anomaly.level}:${anomaly.id}`));
    lastSamples = 20;
    for (let seq = 0; seq < 20; seq++) send(seq, 'main');
    send(20, undefined);
    // The next wafer's step is cut short: the tool goes down mid-step.
    for (let seq = 21; seq < 25; seq++) send(seq, 'main');
    bus.emit('state', { line: 'fab1', station: 'etch-01', state: { state: 'UNSCHEDULED_DOWN', since: 1_025_000 } });
    await monitor.settled();
    expect(verdicts.map((v) => v.verdict)).toEqual(['fault']);
    expect(anomalies).toEqual(['wafer:fab1/etch-01/wafer/W1/main/1000000']);
    const interrupted = (await metrics.waferSteps.get()).values.find((v) => v.labels.reason === 'interrupted')?.value;
    expect(interrupted).toBe(1);
  });

  it('does not judge a step in which a snapshot had a data-quality issue: bad data is no process verdict', async () => {
    lastSamples = 20;
    badData.add(5);
    for (let seq = 0; seq < 10; seq++) send(seq, 'main');
    send(10, undefined);
    for (let seq = 11; seq < 21; seq++) send(seq, 'main');
    send(21, undefined);
    await monitor.settled();
    // The first step (seq 5 stuck, say) is unjudged; the next one is judged as usual.
    expect(verdicts.map((v) => v.start)).toEqual([1_011_000]);
    const unjudged = (await metrics.waferSteps.get()).values.find((v) => v.labels.reason === 'data_quality')?.value;
    expect(unjudged).toBe(1);
  });
});
