import { describe, expect, it } from 'vitest';
import { chi2Quantile, empiricalQuantile, fQuantile, gammaP, normalQuantile } from './stats.js';

describe('distribution functions', () => {
  it('matches χ² table values', () => {
    expect(chi2Quantile(2, 0.99)).toBeCloseTo(9.2103, 3);
    expect(chi2Quantile(5, 0.999)).toBeCloseTo(20.515, 2);
    expect(chi2Quantile(1, 0.95)).toBeCloseTo(3.8415, 3);
    expect(chi2Quantile(10, 0.95)).toBeCloseTo(18.307, 2);
    expect(chi2Quantile(100, 0.999)).toBeCloseTo(149.449, 2);
    expect(chi2Quantile(1, 0.5)).toBeCloseTo(0.45494, 4);
  });

  it('inverts the χ² CDF for non-integer degrees of freedom', () => {
    for (const df of [0.37, 1.5, 7.25, 40.1]) {
      for (const p of [0.01, 0.5, 0.95, 0.999]) {
        expect(gammaP(df / 2, chi2Quantile(df, p) / 2)).toBeCloseTo(p, 10);
      }
    }
  });

  it('matches F and normal table values', () => {
    expect(fQuantile(2, 10, 0.95)).toBeCloseTo(4.1028, 3);
    expect(fQuantile(5, 20, 0.99)).toBeCloseTo(4.1027, 3);
    expect(fQuantile(3, 10000, 0.999)).toBeCloseTo(chi2Quantile(3, 0.999) / 3, 2);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 5);
    expect(normalQuantile(0.001)).toBeCloseTo(-3.090232, 5);
  });

  it('interpolates empirical quantiles', () => {
    expect(empiricalQuantile([4, 1, 3, 2, 5], 0.5)).toBe(3);
    expect(empiricalQuantile([1, 2], 0.75)).toBeCloseTo(1.75, 12);
  });
});
