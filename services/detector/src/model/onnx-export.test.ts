import { createHash } from 'node:crypto';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { ModelMetadataSchema, type ModelMetadata } from '@linewatch/protocol';
import { DYNAMIC_FEATURES, dynamicRows } from './dynamic.test-support.js';
import { specFor, stackWindow, windowEnds } from './lagged.js';
import { exportPcaOnnx } from './onnx-export.js';
import { onnx } from './onnx-proto.js';
import { scoreRowsTs, type PcaModel } from './pca.js';
import { trainPca } from './train.js';

/** Equal within 1e-4, relative once values exceed 1 (float32 graph against float64 TS). */
function expectNear(actual: number, expected: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(expected)));
}

describe('exportPcaOnnx, static', () => {
  it('writes the same bytes as the exporter before lags existed', () => {
    // A hand-made model, so the check is about the exporter alone. The hash is of the pre-lag exporter's output.
    const model: PcaModel = {
      features: ['a', 'b', 'c'], mean: [1.5, -2, 300], std: [0.5, 2, 10],
      loadings: [[0.6, 0.1], [0.6, -0.2], [0.5, 0.9]], eigenvalues: [2, 0.75, 0.25], components: 2,
      explainedVariance: 0.9, alpha: 0.999, t2Limit: 12.5, speLimit: 0.75, t2LimitTheoretical: 12, speLimitTheoretical: 0.7,
      trainingSamples: 100, holdoutSamples: 25, holdout: { t2Theoretical: 0, speTheoretical: 0, t2: 0, spe: 0, score: 0 },
    };
    const meta: ModelMetadata = {
      contract: 'linewatch.model/1', family: 'pca', version: 'etch-pca@2026-11-29T12:00:00.000Z', stationType: 'etch',
      features: model.features, mean: model.mean, std: model.std, threshold: 1, t2Limit: 12.5, speLimit: 0.75, components: 2,
      alpha: 0.999, trainedAt: '2026-11-29T12:00:00.000Z', trainingSamples: 100,
    };
    const bytes = exportPcaOnnx(model, meta, { explainedVariance: '0.9' });
    expect(createHash('sha256').update(bytes).digest('hex')).toBe('e2a1dd5ce443a34bd6fee74326ff4de26c1b0d777261d9aee0ba5bf7d8f3b7cc');
  });
});

// The graph of a lagged model against the TS reference, in the real onnxruntime: dynamic PCA, smoothing alone,
// and both, on data with a delayed sensor so the lagged loadings are not trivial.
describe.each([
  { name: 'dynamic PCA, 2 lags', spec: specFor(2, 1), family: 'dpca' },
  { name: 'smoothing over 4 snapshots', spec: specFor(0, 4), family: 'pca' },
  { name: '1 lag of 2-snapshot averages', spec: specFor(1, 2), family: 'dpca' },
])('exportPcaOnnx, $name', ({ spec, family }) => {
  const rows = dynamicRows(6000, 5);
  const trained = trainPca(DYNAMIC_FEATURES, rows, {
    stationType: 'etch', family: family as 'pca' | 'dpca', smoothing: spec.smoothing, trainedAt: new Date('2026-11-29T12:00:00Z'),
  });
  const { model } = trained;
  const nFeatures = DYNAMIC_FEATURES.length;
  const width = nFeatures * (spec.lags + 1);

  it('records lags and smoothing in the metadata and declares the lagged input', () => {
    expect(model.lags).toBe(spec.lags);
    expect(model.smoothing).toBe(spec.smoothing);
    expect(trained.metadata.family).toBe(family);
    const proto = onnx.ModelProto.decode(trained.onnx);
    const props = Object.fromEntries(proto.metadataProps.map((e) => [e.key, e.value]));
    expect(props.lags).toBe(String(spec.lags));
    expect(props.smoothing).toBe(String(spec.smoothing));
    const parsed = ModelMetadataSchema.parse({ ...trained.metadata });
    expect(parsed.lags).toBe(spec.lags);
    expect(proto.graph!.input![0]!.type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue))).toEqual(['N', width]);
  });

  it('scores lagged rows exactly as the TS reference, folding contributions onto the sensors', async () => {
    const fresh = dynamicRows(400, 77);
    const windows = windowEnds(undefined, fresh.length, spec.lags).map((i) => stackWindow(fresh, i, spec.lags)).slice(0, 96);
    // Faulty windows: one sensor shifted from some lag on, as a step that began a few snapshots ago looks.
    const faulty = windows.slice(0, 48).map((w, i) => w.map((v, a) => {
      const j = a % nFeatures;
      const lag = Math.floor(a / nFeatures);
      return j === i % nFeatures && lag <= i % (spec.lags + 1) ? v + 8 * (model.std[j] as number) : v;
    }));
    const all = [...windows, ...faulty];
    const session = await ort.InferenceSession.create(trained.onnx);
    try {
      const result = await session.run({ x: new ort.Tensor('float32', Float32Array.from(all.flat()), [all.length, width]) });
      const dims = Object.fromEntries(Object.entries(result).map(([k, t]) => [k, [...t.dims]]));
      expect(dims).toEqual({ score: [all.length], t2: [all.length], spe: [all.length], contrib: [all.length, nFeatures], expected: [all.length, nFeatures] });
      const want = scoreRowsTs(model, all);
      const data = (k: string): Float32Array => result[k]!.data as Float32Array;
      want.forEach((w, i) => {
        expectNear(data('score')[i]!, w.score);
        expectNear(data('t2')[i]!, w.t2);
        expectNear(data('spe')[i]!, w.spe);
        for (let j = 0; j < nFeatures; j++) {
          expectNear(data('contrib')[i * nFeatures + j]!, w.contrib[j]!);
          expectNear(data('expected')[i * nFeatures + j]!, w.expected[j]!);
        }
        expect(w.contrib.reduce((s, c) => s + c, 0)).toBeCloseTo(1, 9);
      });
      // The shifted sensor is flagged and named: contributions of its lags land on it.
      const flagged = want.slice(windows.length);
      expect(flagged.filter((s) => s.score > 1).length).toBeGreaterThanOrEqual(44);
      const named = flagged.filter((s, i) => s.contrib.indexOf(Math.max(...s.contrib)) === i % nFeatures).length;
      expect(named).toBeGreaterThanOrEqual(40);
    } finally {
      await session.release();
    }
  });

  it('reconstructs the current smoothed snapshot in raw units', () => {
    // At the training means every variable is 0 up to the lag means: expected is the mean, whatever the lags.
    const atMean = Array.from({ length: width }, (_, a) => model.mean[a % nFeatures] as number);
    const [s] = scoreRowsTs(model, [atMean]);
    s!.expected.forEach((e, j) => expect(Math.abs(e - (model.mean[j] as number))).toBeLessThan(0.1 * (model.std[j] as number)));
  });
});
