import { describe, expect, it } from 'vitest';
import { fitPca, scoreRowsTs, speLimit, standardize, t2Limit } from './pca.js';
import { chi2Quantile, fQuantile } from './stats.js';
import { SYNTHETIC_FEATURES, syntheticRows } from './synthetic.test-support.js';

describe('fitPca on a hand-computed case', () => {
  // x1 = 1,2,3,4 and x2 = 2,1,4,3: both means 2.5, both variances 5/3, covariance 1, so ρ = 0.6.
  // The correlation matrix [[1, .6], [.6, 1]] has eigenpairs 1.6 ↔ (1,1)/√2 and 0.4 ↔ (1,−1)/√2.
  const rows = [[1, 2], [2, 1], [3, 4], [4, 3]];
  const model = fitPca(['a', 'b'], rows, { alpha: 0.95, holdoutFraction: 0 });
  const sd = Math.sqrt(5 / 3);

  it('finds the eigenvalues and loadings', () => {
    expect(model.mean).toEqual([2.5, 2.5]);
    expect(model.std[0]).toBeCloseTo(sd, 6);
    expect(model.eigenvalues[0]).toBeCloseTo(1.6, 6);
    expect(model.eigenvalues[1]).toBeCloseTo(0.4, 6);
    expect(model.components).toBe(1);
    expect(model.explainedVariance).toBeCloseTo(0.8, 6);
    expect(Math.abs(model.loadings[0]![0]!)).toBeCloseTo(Math.SQRT1_2, 6);
    expect(model.loadings[0]![0]! * model.loadings[1]![0]!).toBeCloseTo(0.5, 6);
  });

  it('computes T² and SPE of test points', () => {
    const [across, along] = scoreRowsTs(model, [[3.5, 1.5], [3.5, 3.5]]);
    // (3.5, 1.5): z = (1, −1)/sd lies wholly in the residual direction, so T² = 0 and SPE = 2/sd² = 1.2.
    expect(across!.t2).toBeCloseTo(0, 6);
    expect(across!.spe).toBeCloseTo(1.2, 5);
    // (3.5, 3.5): z = (1, 1)/sd lies on the first component, t = √2/sd, T² = t²/1.6 = 0.75, SPE = 0.
    expect(along!.t2).toBeCloseTo(0.75, 5);
    expect(along!.spe).toBeCloseTo(0, 6);
    expect(along!.expected[0]).toBeCloseTo(3.5, 5);
    expect(across!.expected).toEqual([2.5, 2.5].map((v) => expect.closeTo(v, 5)));
  });

  it('sets the control limits from the F distribution and Box, each at half the false-alarm budget', () => {
    // The score alarms when either statistic does, so at α = 0.95 each limit is at 0.975.
    // k=1, n=4: 1·15/(4·3)·F(1,3;0.975) = 1.25·17.443; SPE: θ1 = 0.4, θ2 = 0.16 → g = 0.4, h = 1.
    expect(fQuantile(1, 3, 0.975)).toBeCloseTo(17.443, 2);
    expect(model.t2LimitTheoretical).toBeCloseTo(1.25 * fQuantile(1, 3, 0.975), 6);
    expect(model.speLimitTheoretical).toBeCloseTo(0.4 * chi2Quantile(1, 0.975), 5);
    expect(t2Limit(1, 4, 0.975)).toBe(model.t2LimitTheoretical);
    expect(speLimit([0.4], 0.95)).toBeCloseTo(0.4 * 3.841459, 5);
    // Nothing held out: the theory limits stand.
    expect(model.holdout.method).toBe('theory');
    expect(model.t2Limit).toBe(Math.fround(model.t2LimitTheoretical));
  });
});

describe('fitPca on correlated normal data', () => {
  const rows = syntheticRows(10_000, 7);
  const model = fitPca(SYNTHETIC_FEATURES, rows, { alpha: 0.999 });

  it('keeps the two drivers and calibrates on the held-out tail', () => {
    expect(model.components).toBe(2);
    expect(model.explainedVariance).toBeGreaterThan(0.9);
    expect(model.trainingSamples).toBe(8000);
    expect(model.holdoutSamples).toBe(2000);
    // 2000 held-out rows expect 2 exceedances at 0.1%: the limits come from the tail fit, near the target.
    expect(model.holdout.method).toBe('tail');
    expect(model.holdout.target).toBeCloseTo(0.001, 12);
    expect(model.holdout.score).toBeLessThanOrEqual(3 * (1 - model.alpha));
    expect(model.holdout.splitHalf).toBeLessThanOrEqual(5 * (1 - model.alpha));
  });

  it('flags a sensor stepped by 6σ against the correlation and names it the top contributor', () => {
    const fresh = syntheticRows(200, 99);
    const target = 3;
    const faulty = fresh.map((r) => r.map((v, j) => (j === target ? v + 6 * model.std[j]! : v)));
    const scored = scoreRowsTs(model, faulty);
    for (const s of scored) {
      expect(s.score).toBeGreaterThan(1);
      expect(s.contrib.indexOf(Math.max(...s.contrib))).toBe(target);
      expect(s.contrib.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
    }
    const normalRate = scoreRowsTs(model, fresh).filter((s) => s.score > 1).length / fresh.length;
    expect(normalRate).toBeLessThanOrEqual(0.01);
  });

  it('rejects unusable input', () => {
    expect(() => fitPca(['a'], [[1], [2]])).toThrow(/at least 2 features/);
    expect(() => fitPca(['a', 'b'], [[1, 2], [3]])).toThrow(/row 1 has 1 values/);
    expect(() => fitPca(['a', 'b'], [[1, NaN], [3, 4]])).toThrow(/non-finite/);
    expect(() => fitPca(['a', 'b'], rows.slice(0, 100).map((r) => r.slice(0, 2)), { lags: 1, smoothing: 3 })).toThrow(/smoothing must be/);
  });
});

describe('lagged PCA variables', () => {
  const rows = syntheticRows(3000, 8);

  it('standardises each sensor, averages it over the smoothing window per lag, and standardises again', () => {
    const model = fitPca(SYNTHETIC_FEATURES, rows, { lags: 3, smoothing: 2 });
    expect(model.loadings).toHaveLength(6 * 3);
    expect(model.lagMean).toHaveLength(18);
    const window = [...rows[10]!, ...rows[9]!, ...rows[8]!, ...rows[7]!];
    const z = standardize(model, window);
    const raw = (l: number, j: number): number => (window[l * 6 + j]! - model.mean[j]!) / model.std[j]!;
    for (let b = 0; b < 3; b++) {
      for (let j = 0; j < 6; j++) {
        const a = b * 6 + j;
        expect(z[a]).toBeCloseTo(((raw(b, j) + raw(b + 1, j)) / 2 - model.lagMean![a]!) / model.lagStd![a]!, 10);
      }
    }
    // The standardised variables of the training windows have unit variance, the smoothed ones included.
    const lag0 = rows.slice(3, 2400).map((_, i) => standardize(model, [...rows[i + 3]!, ...rows[i + 2]!, ...rows[i + 1]!, ...rows[i]!])[0]!);
    const variance = lag0.reduce((s, v) => s + v * v, 0) / lag0.length;
    expect(variance).toBeGreaterThan(0.9);
    expect(variance).toBeLessThan(1.1);
  });

  it('fits only windows inside one segment and counts the held-out coverage', () => {
    // Segments of 10 rows: 2 of every 10 rows cannot end a window of 2 lags.
    const segments = rows.map((_, i) => Math.floor(i / 10));
    const model = fitPca(SYNTHETIC_FEATURES, rows, { lags: 2, smoothing: 1, segments });
    expect(model.trainingSamples).toBe(2400 * 0.8);
    expect(model.holdoutSamples).toBe(600 * 0.8);
    expect(model.coverage).toBeCloseTo(0.8, 12);
  });
});
