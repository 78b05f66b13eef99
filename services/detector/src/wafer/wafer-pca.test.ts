import { describe, expect, it } from 'vitest';
import { scoreRowsTs } from '../model/pca.js';
import { baselineOf, waferPopulation } from './synthetic-wafers.test-support.js';
import { fitWaferPca, type WaferFit, type WaferRow } from './wafer-pca.js';

const BASELINE_WAFERS = 5;

function names(count: number): string[] {
  return Array.from({ length: count }, (_, j) => `s${j}__mean`);
}

/** One period of `wafers` normal wafers, centred on its first 5, fitted. */
function fitPeriod(indicators: number, wafers: number, seed: number, quantile?: number): { fit: WaferFit; population: ReturnType<typeof waferPopulation>; seed: number } {
  const population = waferPopulation(indicators);
  const next = population.wafers(seed);
  const values = Array.from({ length: wafers }, next);
  const baseline = baselineOf(values, BASELINE_WAFERS);
  const rows: WaferRow[] = values.map((v, i) => ({ values: v, baseline, inBaseline: i < BASELINE_WAFERS }));
  return { fit: fitWaferPca(names(indicators), rows, baseline, quantile === undefined ? {} : { quantile }), population, seed };
}

/** Share of rows the model flags (score over 1, the limit). */
function flaggedShare(fit: WaferFit, rows: readonly Float64Array[]): number {
  const scores = scoreRowsTs(fit.model, rows.map((r) => Array.from(r)));
  return scores.filter((s) => s.score > 1).length / scores.length;
}

function average(values: readonly number[]): number {
  return values.reduce((s, v) => s + v, 0) / values.length;
}

/**
 * Fresh normal wafers over the limit, averaged over independent training sets. The limit is the empirical
 * `quantile` of the m = wafers − 5 leave-one-out scores, so a fresh wafer exceeds it with probability about
 * E = (m(1−q) + q)/(m + 1) (type-7 quantile), spread sqrt(E(1−E)/(m+2)) per training set: 0.020 for m = 75,
 * 0.045 for m = 25. Over 16 sets that is 0.005 and 0.011; the binomial spread of 16 × 1000 fresh wafers
 * (≈ 0.0015) adds little. Bounds are E ± 3 of those spreads, the lower one no tighter than (1−q)/2.
 */
function freshRate(indicators: number, wafers: number, quantile: number): { rate: number; expected: number; spread: number } {
  const sets = 16;
  const rates = Array.from({ length: sets }, (_, s) => {
    const { fit, population } = fitPeriod(indicators, wafers, 1000 + s, quantile);
    // Fresh wafers of the same distribution: the same population, another seed.
    const next = population.wafers(50_000 + s);
    return flaggedShare(fit, Array.from({ length: 1000 }, next));
  });
  const m = wafers - BASELINE_WAFERS;
  const expected = (m * (1 - quantile) + quantile) / (m + 1);
  return { rate: average(rates), expected, spread: Math.sqrt((expected * (1 - expected)) / (m + 2) / sets) };
}

/** Fresh wafers with indicator i mod p raised by 4 of its normal stds (the population's wafer-to-wafer std). */
function shiftedWafers(population: ReturnType<typeof waferPopulation>, seed: number, count: number): { rows: Float64Array[]; shifted: number[] } {
  const next = population.wafers(seed);
  const p = population.scale.length;
  const rows = Array.from({ length: count }, (_, i) => {
    const row = next();
    row[i % p]! += 4 * (population.scale[i % p] as number);
    return row;
  });
  return { rows, shifted: rows.map((_, i) => i % p) };
}

describe('fitWaferPca limits on normal wafers', () => {
  it.each([
    { indicators: 20, wafers: 80, quantile: 0.98 },
    { indicators: 20, wafers: 80, quantile: 0.9 },
    { indicators: 60, wafers: 30, quantile: 0.98 },
  ])('$wafers wafers × $indicators indicators: fresh normal wafers exceed the $quantile limit at about 1 − quantile', ({ indicators, wafers, quantile }) => {
    const { rate, expected, spread } = freshRate(indicators, wafers, quantile);
    expect(rate).toBeGreaterThanOrEqual(Math.min((1 - quantile) / 2, expected - 3 * spread));
    expect(rate).toBeLessThanOrEqual(expected + 3 * spread);
  });

  it('leaves the limit at the quantile of the leave-one-out scores of the wafers not in the baseline', () => {
    const { fit } = fitPeriod(20, 80, 7);
    expect(fit.looScores).toHaveLength(75);
    expect(fit.model.holdoutSamples).toBe(75);
    expect(fit.model.trainingSamples).toBe(80);
    // Type-7 0.98 quantile of 75 scores lies between the 73rd and 74th: one or two are over it.
    expect(fit.looScores.filter((s) => s > 1).length).toBe(2);
    expect(fit.model.holdout.score).toBeCloseTo(2 / 75, 12);
  });

  it('scores a fresh normal wafer with its own model as the leave-one-out scores do (same scale)', () => {
    // The median fresh score and the median leave-one-out score agree within their sampling spread.
    const { fit, population } = fitPeriod(20, 80, 8);
    const next = population.wafers(90_000);
    const fresh = scoreRowsTs(fit.model, Array.from({ length: 2000 }, () => Array.from(next()))).map((s) => s.score).sort((a, b) => a - b);
    const loo = [...fit.looScores].sort((a, b) => a - b);
    const median = (v: number[]): number => v[Math.floor(v.length / 2)] as number;
    expect(median(fresh) / median(loo)).toBeGreaterThan(0.75);
    expect(median(fresh) / median(loo)).toBeLessThan(1.33);
  });
});

describe('fitWaferPca on a shifted wafer', () => {
  it.each([
    { indicators: 20, wafers: 80 },
    { indicators: 60, wafers: 30 },
  ])('$wafers wafers × $indicators indicators: one indicator 4 stds off is flagged and ranked first', ({ indicators, wafers }) => {
    const flagged: number[] = [];
    const first: number[] = [];
    const falseAlarms: number[] = [];
    for (let s = 0; s < 10; s++) {
      const { fit, population } = fitPeriod(indicators, wafers, 2000 + s);
      const { rows, shifted } = shiftedWafers(population, 70_000 + s, 200);
      const scores = scoreRowsTs(fit.model, rows.map((r) => Array.from(r)));
      flagged.push(scores.filter((r) => r.score > 1).length / scores.length);
      first.push(scores.filter((r, i) => r.contrib.indexOf(Math.max(...r.contrib)) === shifted[i]).length / scores.length);
      falseAlarms.push(flaggedShare(fit, Array.from({ length: 1000 }, population.wafers(80_000 + s))));
    }
    // The shift breaks the correlations, so it shows in SPE. T² and SPE limits each set at their own 99% point
    // (measured on 4000 fresh wafers) flag 100% (80 × 20) and 97% (30 × 60) of these wafers at ≈ 2% false alarms;
    // 90% is the bar a calibrated model must reach here.
    expect(average(falseAlarms)).toBeLessThan(0.06);
    expect(average(flagged)).toBeGreaterThanOrEqual(0.9);
    expect(average(first)).toBeGreaterThanOrEqual(0.95);
  });
});

describe('fitWaferPca inputs', () => {
  it('leaves out an indicator that does not vary and reports it as constant', () => {
    const next = waferPopulation(6).wafers(3);
    const values = Array.from({ length: 40 }, () => {
      const v = next();
      return Float64Array.from([...v.slice(0, 3), 42, ...v.slice(3)]);
    });
    const baseline = baselineOf(values);
    const features = ['a__mean', 'b__mean', 'c__mean', 'stuck__mean', 'd__mean', 'e__mean', 'f__mean'];
    const fit = fitWaferPca(features, values.map((v, i) => ({ values: v, baseline, inBaseline: i < 5 })), baseline);
    expect(fit.constant).toEqual(['stuck__mean']);
    expect(fit.model.features).toEqual(['a__mean', 'b__mean', 'c__mean', 'd__mean', 'e__mean', 'f__mean']);
    expect(fit.model.mean).toEqual([0, 1, 2, 4, 5, 6].map((j) => Math.fround(baseline[j] as number)));
    expect(fit.model.std).toHaveLength(6);
    expect(fit.model.loadings).toHaveLength(6);
  });

  it('centres the model on the reference and scales by the spread around each row\'s baseline', () => {
    const population = waferPopulation(10);
    const values = Array.from({ length: 200 }, population.wafers(4));
    const baseline = baselineOf(values);
    const reference = Float64Array.from(baseline, (v, j) => v + 3 * (population.scale[j] as number));
    const fit = fitWaferPca(names(10), values.map((v, i) => ({ values: v, baseline, inBaseline: i < 5 })), reference);
    expect(fit.model.mean).toEqual(Array.from(reference, Math.fround));
    // The std is the wafer-to-wafer spread (1 × scale), within the sampling error of 200 wafers, plus the small
    // offset of the baseline from the population mean.
    fit.model.std.forEach((sd, j) => {
      expect(sd / (population.scale[j] as number)).toBeGreaterThan(0.85);
      expect(sd / (population.scale[j] as number)).toBeLessThan(1.15);
    });
  });

  it('needs at least 8 wafers', () => {
    const next = waferPopulation(5).wafers(5);
    const values = Array.from({ length: 7 }, next);
    const baseline = baselineOf(values);
    const rows = values.map((v) => ({ values: v, baseline, inBaseline: false }));
    expect(() => fitWaferPca(names(5), rows, baseline)).toThrow(/at least 8 normal wafers, got 7/);
    const eight = [...rows, { values: next(), baseline, inBaseline: false }];
    expect(fitWaferPca(names(5), eight, baseline).model.trainingSamples).toBe(8);
  });
});
