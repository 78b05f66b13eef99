import { describe, expect, it } from 'vitest';
import { DYNAMIC_FEATURES, dynamicRows } from './dynamic.test-support.js';
import { stackWindow, windowEnds } from './lagged.js';
import { onnx } from './onnx-proto.js';
import { fitPca, scoreRowsTs } from './pca.js';
import { PROBE_HORIZON, screenSensors, shortTermStd, stepSensitivity } from './selection.js';
import { SYNTHETIC_FEATURES, gaussian, rng, syntheticRows } from './synthetic.test-support.js';
import { SENSITIVITY_TOLERANCE, summarise, trainPca, type Candidate } from './train.js';

/** Synthetic rows plus a constant sensor, one that drifts by 1.5σ over the data, and one that wanders slowly. */
function withAwkwardSensors(count: number, seed: number): { features: string[]; rows: number[][] } {
  const normal = gaussian(rng(seed + 1000));
  let wander = 0;
  const rows = syntheticRows(count, seed).map((r, i) => {
    // AR(1) with ρ = 0.995: its thirds' means differ by chance, but it is stationary.
    wander = 0.995 * wander + Math.sqrt(1 - 0.995 ** 2) * normal();
    return [...r, 42, 10 + normal() + (1.5 * i) / count, 5 + wander + 0.1 * normal()];
  });
  return { features: [...SYNTHETIC_FEATURES, 'setpoint_readback', 'drifting_gauge', 'slow_thermal'], rows };
}

describe('screenSensors', () => {
  it('leaves out constant and drifting sensors, and keeps a slow but stationary one', () => {
    const { features, rows } = withAwkwardSensors(6000, 3);
    const { keep, excluded } = screenSensors(features, rows);
    expect(excluded.map((e) => [e.sensor, e.reason])).toEqual([['setpoint_readback', 'constant'], ['drifting_gauge', 'drift']]);
    // First to last third of a 1.5σ ramp: 1σ apart, in pooled stds of noise plus a third of the ramp.
    expect(excluded[1]!.value).toBeGreaterThan(0.8);
    expect(keep.map((j) => features[j])).toEqual([...SYNTHETIC_FEATURES, 'slow_thermal']);
  });

  it('keeps every sensor of plain normal data', () => {
    expect(screenSensors(SYNTHETIC_FEATURES, syntheticRows(3000, 4)).excluded).toEqual([]);
  });

  it('records the exclusions in the model file and the summary, and fits without them', () => {
    const { features, rows } = withAwkwardSensors(6000, 3);
    const trained = trainPca(features, rows, { stationType: 'etch', trainedAt: new Date('2026-11-29T12:00:00Z') });
    expect(trained.metadata.features).toEqual([...SYNTHETIC_FEATURES, 'slow_thermal']);
    const props = Object.fromEntries(onnx.ModelProto.decode(trained.onnx).metadataProps.map((e) => [e.key, e.value]));
    expect(JSON.parse(props.excludedSensors!)).toEqual([
      { sensor: 'setpoint_readback', reason: 'constant', value: 0 },
      { sensor: 'drifting_gauge', reason: 'drift', value: expect.any(Number) },
    ]);
    expect(summarise(trained.metadata, trained.model, trained.selection)).toMatch(/excluded=setpoint_readback\(constant 0\.00\),drifting_gauge\(drift \d\.\d+\)/);
    expect(trainPca(features, rows, { stationType: 'etch', screen: false }).metadata.features).toEqual(features);
  });
});

describe('shortTermStd', () => {
  it('measures snapshot-to-snapshot noise, not slow wander or a rare jump', () => {
    const normal = gaussian(rng(9));
    let level = 0;
    const rows = Array.from({ length: 5000 }, (_, i) => {
      level = 0.999 * level + 0.05 * normal();
      return [level + 0.5 * normal() + (i % 100 === 0 ? 50 : 0)];
    });
    const [sigma] = shortTermStd(rows, undefined, 1);
    expect(sigma).toBeGreaterThan(0.45);
    expect(sigma).toBeLessThan(0.6);
  });
});

describe('stepSensitivity', () => {
  const rows = dynamicRows(8000, 2);

  it.each([
    { lags: 0, smoothing: 1 },
    { lags: 2, smoothing: 1 },
    { lags: 3, smoothing: 2 },
  ])('equals scoring every shifted window in full (lags $lags, smoothing $smoothing)', ({ lags, smoothing }) => {
    const model = fitPca(DYNAMIC_FEATURES, rows, { lags, smoothing, varianceTarget: 0.95 });
    const windows = windowEnds(undefined, 300, lags).map((i) => stackWindow(rows.slice(6000), i, lags));
    const size = model.std.map((s) => 2 * s);
    const nFeatures = DYNAMIC_FEATURES.length;
    let detected = 0;
    let total = 0;
    for (let j = 0; j < nFeatures; j++) {
      for (let onset = 0; onset < PROBE_HORIZON; onset++) {
        for (const sign of [1, -1]) {
          const shifted = windows.map((w) => w.map((v, a) => (a % nFeatures === j && Math.floor(a / nFeatures) <= onset ? v + sign * size[j]! : v)));
          for (const s of scoreRowsTs(model, shifted)) {
            total++;
            if (s.score > 1) detected++;
          }
        }
      }
    }
    expect(stepSensitivity(model, windows, size)).toBeCloseTo((model.coverage ?? 1) * (detected / total), 12);
    expect(stepSensitivity(model, windows, size.map((s) => 3 * s))).toBeGreaterThan(stepSensitivity(model, windows, size));
  });
});

describe('trainPca choosing its settings', () => {
  const chosen = (c: { candidates: Candidate[]; chosen: number }): Candidate => c.candidates[c.chosen]!;

  it('takes lags or smoothing where they detect a small step better, and records every candidate', () => {
    // Slow AR drivers and a delayed sensor: snapshot-to-snapshot noise is a fraction of the spread.
    const trained = trainPca(DYNAMIC_FEATURES, dynamicRows(20_000, 3), { stationType: 'etch', family: 'auto', smoothing: 'auto' });
    const { selection } = trained;
    expect(selection.candidates.map((c) => `${c.lags}/${c.smoothing}`)).toEqual(['0/1', '1/1', '1/2', '2/1', '2/2', '3/2', '3/4', '4/4', '5/4']);
    const staticCandidate = selection.candidates[0]!;
    const best = chosen(selection);
    expect(best.lags).toBeGreaterThan(0);
    expect(best.sensitivity).toBeGreaterThan(staticCandidate.sensitivity + SENSITIVITY_TOLERANCE);
    expect(trained.model.lags).toBe(best.lags);
    expect(trained.metadata.lags).toBe(best.lags);
    expect(trained.metadata.smoothing).toBe(best.smoothing);
    const props = Object.fromEntries(onnx.ModelProto.decode(trained.onnx).metadataProps.map((e) => [e.key, e.value]));
    expect(JSON.parse(props.candidates!)).toEqual(selection.candidates);
    expect(props.selectionCriterion).toMatch(/simplest candidate within/);
    // A lagged model without enough windows for some candidates still trains on the ones it can fit.
    expect(trainPca(DYNAMIC_FEATURES, dynamicRows(25, 3), { stationType: 'etch', family: 'auto', smoothing: 'auto' }).selection.candidates.length).toBeLessThan(9);
  });

  it('stays static on data without time in it', () => {
    const trained = trainPca(SYNTHETIC_FEATURES, syntheticRows(20_000, 3), { stationType: 'etch', family: 'auto', smoothing: 'auto' });
    expect(chosen(trained.selection)).toMatchObject({ family: 'pca', lags: 0, smoothing: 1 });
    expect(trained.metadata.lags).toBeUndefined();
    expect(trained.metadata.version).toMatch(/^etch-pca@/);
  });

  it('keeps to the family asked for', () => {
    const trained = trainPca(DYNAMIC_FEATURES, dynamicRows(10_000, 4), { stationType: 'etch', family: 'dpca', smoothing: 1 });
    expect(trained.selection.candidates.map((c) => c.family)).toEqual(['dpca', 'dpca']);
    expect(trained.metadata.family).toBe('dpca');
    expect(trained.metadata.version).toMatch(/^etch-dpca@/);
  });
});
