import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Anomaly } from '@linewatch/protocol';
import type { ScorePoint } from '@linewatch/store';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventBus } from '../event-bus.js';
import { DetectorMetrics } from '../metrics.js';
import { ModelRegistry } from '../model-registry.js';
import { Scorer } from '../scorer.js';
import { StationTracker } from '../station-tracker.js';
import { loadOnnxModel } from './onnx-model.js';
import { onnx } from './onnx-proto.js';
import { torchStyleMetadata, torchStyleModel, type TorchStyleOptions } from './testing/torch-style-model.js';
import type { StationModel } from './types.js';

/**
 * Rows of raw values (a, b, c) and what the autoencoder of torch-style-model.ts makes of them, worked out by hand:
 * z = ((a−10)/2, (b−20)/4, (c−30)/5), h = relu(z_a + z_b), expected z = (h/2, h/2, 0), score = Σ residual².
 */
const ROWS = [
  // z = (2, 2, 0): h = 4, reconstructed exactly.
  { x: [14, 28, 30], score: 0 },
  // z = (1, −1, 3): h = relu(0) = 0, residual (1, −1, 3).
  { x: [12, 16, 45], score: 11, contrib: [1 / 11, 1 / 11, 9 / 11] },
  // z = (3, 1, 0): h = 4, residual (1, −1, 0).
  { x: [16, 24, 30], score: 2, contrib: [0.5, 0.5, 0] },
  // z = (−1, −2, 0): h = relu(−3) = 0 (the Relu at work), residual (−1, −2, 0).
  { x: [8, 12, 30], score: 5, contrib: [0.2, 0.8, 0] },
];

describe('a bring-your-own model exported the way PyTorch does', () => {
  let dir: string;
  const opened: StationModel[] = [];

  const write = async (name: string, opts: TorchStyleOptions): Promise<string> => {
    const path = join(dir, name);
    await writeFile(path, torchStyleModel(opts));
    return path;
  };
  const load = async (name: string, opts: TorchStyleOptions): Promise<StationModel> => {
    const model = await loadOnnxModel(await write(name, opts));
    opened.push(model);
    return model;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'linewatch-byo-'));
  });
  afterAll(async () => {
    await Promise.all(opened.map((m) => m.release()));
    await rm(dir, { recursive: true, force: true });
  });

  it('looks like a torch.onnx.export file: opset 17, a symbolic batch dimension, module-named nodes', () => {
    const proto = onnx.ModelProto.decode(torchStyleModel({ metadata: torchStyleMetadata() }));
    expect(proto.producerName).toBe('pytorch');
    expect(proto.opsetImport.map((o) => Number(o.version))).toEqual([17]);
    expect(proto.graph?.input?.[0]?.type?.tensorType?.shape?.dim?.[0]?.dimParam).toBe('batch_size');
    expect(proto.graph?.node?.map((n) => n.name)).toEqual(expect.arrayContaining(['/encoder/Gemm', '/Relu', '/decoder/Gemm', '/ReduceSum']));
    expect(proto.graph?.initializer?.map((t) => t.name)).toEqual(['mean', 'std', 'encoder.weight', 'encoder.bias', 'decoder.weight', 'decoder.bias']);
  });

  it('loads with its metadata parsed (Python-style JSON included) and scores as worked out by hand', async () => {
    const model = await load('etch.onnx', { metadata: torchStyleMetadata('etch-ae@1', { context: '{"recipe": "R1", "step": "main_etch"}' }) });
    expect(model.meta).toEqual({
      contract: 'linewatch.model/1', family: 'autoencoder', version: 'etch-ae@1', stationType: 'etch', context: { recipe: 'R1', step: 'main_etch' },
      features: ['a', 'b', 'c'], mean: [10, 20, 30], std: [2, 4, 5], threshold: 4, trainedAt: '2026-11-30T08:00:00Z', trainingSamples: 1000,
    });
    const scored = await model.score(Float32Array.from(ROWS.flatMap((r) => r.x)), ROWS.length);
    expect(scored.map((s) => s.score)).toEqual(ROWS.map((r) => r.score));
    scored.forEach((s, i) => {
      // No t2/spe outputs: NaN, which decisions and the store carry as null.
      expect(s.t2).toBeNaN();
      expect(s.spe).toBeNaN();
      expect(s.expected).toBeUndefined();
      const want = ROWS[i]!.contrib;
      if (want) {
        expect(Array.from(s.contrib!)).toEqual(want.map((c) => expect.closeTo(c, 5)));
        expect(Array.from(s.contrib!).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      }
    });
  });

  it('works with only a score output', async () => {
    const model = await load('score-only.onnx', { metadata: torchStyleMetadata('etch-ae@score-only'), outputs: ['score'] });
    const scored = await model.score(Float32Array.from(ROWS.flatMap((r) => r.x)), ROWS.length);
    expect(scored).toEqual(ROWS.map((r) => ({ score: r.score, t2: NaN, spe: NaN })));
  });

  it('goes through the detector pipeline: T² and SPE null, anomalies explained by its contrib output', async () => {
    const modelsDir = await mkdtemp(join(tmpdir(), 'linewatch-byo-pipeline-'));
    await writeFile(join(modelsDir, 'etch.onnx'), torchStyleModel({ metadata: torchStyleMetadata('etch-ae@7') }));
    const logger = pino({ level: 'silent' });
    const metrics = new DetectorMetrics();
    const bus = new EventBus(logger, metrics);
    const registry = new ModelRegistry({ modelsDir, loadModel: loadOnnxModel, logger, reloadIntervalMs: 0 });
    const scorer = new Scorer({ batchMax: 64, batchWaitMs: 0, metrics, logger });
    const tracker = new StationTracker({ bus, registry, scorer, metrics, logger, warnAfter: 1, alarmAfter: 1, clearAfter: 1, offlineAfterMs: 60_000 });
    const scores: ScorePoint[] = [];
    const anomalies: Anomaly[] = [];
    bus.on('score', ({ point }) => void scores.push(point));
    bus.on('anomaly', ({ anomaly }) => void anomalies.push(anomaly));
    tracker.start();
    try {
      await registry.start();
      bus.emit('meta', { meta: { line: 'l1', station: 'e1', type: 'etch', name: 'e1', order: 0, sensors: ['a', 'b', 'c'].map((name) => ({ name, unit: '', min: -1e3, max: 1e3 })) } });
      ROWS.forEach((r, seq) =>
        bus.emit('telemetry', { line: 'l1', station: 'e1', telemetry: { ts: 1000 + seq, seq, values: { a: r.x[0]!, b: r.x[1]!, c: r.x[2]! } }, receivedAt: Date.now() }),
      );
      await tracker.routed();
      await scorer.drain();
    } finally {
      await tracker.stop();
      await scorer.stop();
      await registry.stop();
      await rm(modelsDir, { recursive: true, force: true });
    }
    expect(scores.map((s) => [s.score, s.t2, s.spe, s.anomalous, s.modelVersion])).toEqual([
      [0, null, null, false, 'etch-ae@7'],
      [11, null, null, true, 'etch-ae@7'],
      [2, null, null, false, 'etch-ae@7'],
      [5, null, null, true, 'etch-ae@7'],
    ]);
    // The second row alarms; sensor c holds 9/11 of its score.
    expect(anomalies[0]?.contributors[0]?.sensor).toBe('c');
    expect(anomalies[0]?.modelVersion).toBe('etch-ae@7');
    expect(metrics.stats.scoreErrors).toBe(0);
  });

  describe('refuses a file that breaks the contract, saying what to change', () => {
    const refused = (name: string, opts: TorchStyleOptions) => write(name, opts).then(loadOnnxModel);

    it('an input not named x', async () => {
      await expect(refused('input-name.onnx', { metadata: torchStyleMetadata(), inputName: 'input.1' })).rejects.toThrow(
        /input-name\.onnx: graph has no input named 'x' \(inputs: 'input\.1'\); export with input_names=\['x'\]/,
      );
    });

    it('a float64 input', async () => {
      await expect(refused('double.onnx', { metadata: torchStyleMetadata(), inputType: onnx.TensorProto.DataType.DOUBLE })).rejects.toThrow(
        /double\.onnx: input 'x' must be float32, got double/,
      );
    });

    it('an input width that is not the number of features', async () => {
      const four = torchStyleMetadata('etch-ae@1', { features: '["a", "b", "c", "d"]', mean: '[10.0, 20.0, 30.0, 0.0]', std: '[2.0, 4.0, 5.0, 1.0]' });
      await expect(refused('width.onnx', { metadata: four })).rejects.toThrow(/width\.onnx: input 'x' must be \[N, 4\] \(one column per feature\), got \[batch_size, 3\]/);
      // A model that reads one earlier snapshot per row takes twice the columns.
      const lagged = torchStyleMetadata('etch-ae@1', { lags: '1' });
      await expect(refused('lagged.onnx', { metadata: lagged })).rejects.toThrow(/lagged\.onnx: input 'x' must be \[N, 6\] \(one column per feature for each of 2 snapshots/);
    });

    it('a fixed batch size (exported without dynamic_axes)', async () => {
      await expect(refused('fixed.onnx', { metadata: torchStyleMetadata(), batchDim: 1 })).rejects.toThrow(
        /fixed\.onnx: input 'x' has a fixed batch size of 1.*dynamic_axes/,
      );
    });

    it('no linewatch metadata, or some keys missing', async () => {
      await expect(refused('bare.onnx', {})).rejects.toThrow(
        /bare\.onnx: invalid linewatch metadata \(contract: missing; family: missing; version: missing; stationType: missing; features: missing/,
      );
      await expect(refused('no-threshold.onnx', { metadata: torchStyleMetadata('etch-ae@1', { threshold: undefined }) })).rejects.toThrow(
        /no-threshold\.onnx: invalid linewatch metadata \(threshold: missing\)/,
      );
    });

    it('no score output, or one of the wrong shape', async () => {
      await expect(refused('unnamed.onnx', { metadata: torchStyleMetadata(), scoreName: 'output', outputs: ['score'] })).rejects.toThrow(
        /unnamed\.onnx: graph has no output named 'score' \(outputs: 'output'\)/,
      );
      await expect(refused('keepdim.onnx', { metadata: torchStyleMetadata(), scoreShape: ['batch_size', 1] })).rejects.toThrow(
        /keepdim\.onnx: output 'score' must be \[N\], got \[batch_size, 1\]/,
      );
    });
  });
});
