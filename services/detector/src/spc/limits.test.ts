import { describe, expect, it } from 'vitest';
import { gaussian, rng } from '../model/synthetic.test-support.js';
import { estimateSigma, learnSpcLimits, measureFiringRates } from './limits.js';

/** Seeded AR(1) series with stationary mean `mean` and std `sd`, lag-1 correlation `rho`. */
function ar1(count: number, rho: number, mean: number, sd: number, seed: number): number[] {
  const normal = gaussian(rng(seed));
  const innovation = Math.sqrt(1 - rho * rho);
  let x = normal();
  return Array.from({ length: count }, () => {
    x = rho * x + innovation * normal();
    return mean + sd * x;
  });
}

const columns = (...series: number[][]): number[][] => (series[0] ?? []).map((_, t) => series.map((s) => s[t] as number));

describe('learnSpcLimits', () => {
  it('recovers centre and sigma of independent normal readings with both estimators', () => {
    const rows = columns(ar1(20_000, 0, 50, 4, 1), ar1(20_000, 0, -3, 0.01, 2));
    const { center, movingRange, std } = estimateSigma(rows);
    expect(center[0]).toBeCloseTo(50, 0);
    expect(center[1]).toBeCloseTo(-3, 3);
    for (const [j, sd] of [[0, 4], [1, 0.01]] as const) {
      expect(Math.abs((movingRange[j] as number) / sd - 1)).toBeLessThan(0.03);
      expect(Math.abs((std[j] as number) / sd - 1)).toBeLessThan(0.03);
    }
    expect(learnSpcLimits(rows).sigma[0]).toBeCloseTo(Math.max(movingRange[0] as number, std[0] as number), 12);
  });

  it('moving range sees only sample-to-sample noise: √(1−ρ) of σ on an AR(1), so the default takes the std', () => {
    const rows = columns(ar1(50_000, 0.9, 0, 1, 3));
    const mr = learnSpcLimits(rows, 'moving-range').sigma[0] as number;
    const sd = learnSpcLimits(rows, 'std').sigma[0] as number;
    expect(mr).toBeCloseTo(Math.sqrt(1 - 0.9), 1);
    expect(sd).toBeGreaterThan(0.9);
    expect(sd).toBeLessThan(1.1);
    expect(learnSpcLimits(rows).sigma[0]).toBe(sd);
  });

  it('moving range ignores a slow drift that inflates the std', () => {
    const noise = ar1(10_000, 0, 0, 1, 4);
    const rows = columns(noise.map((v, t) => v + (t / 10_000) * 10));
    expect(learnSpcLimits(rows, 'moving-range').sigma[0]).toBeCloseTo(1, 1);
    expect(learnSpcLimits(rows, 'std').sigma[0]).toBeGreaterThan(2.5);
  });

  it('gives a constant feature sigma 0 and refuses fewer than 2 rows', () => {
    expect(learnSpcLimits([[1, 5], [2, 5], [3, 5]]).sigma[1]).toBe(0);
    expect(() => learnSpcLimits([[1]])).toThrow(/at least 2 rows/);
  });
});

describe('measureFiringRates', () => {
  it('matches the textbook false-firing rates on independent normal data', () => {
    const features = ['a', 'b', 'c', 'd'];
    const rows = columns(...features.map((_, j) => ar1(60_000, 0, 0, 1, 10 + j)));
    const rates = measureFiringRates(features, { center: [0, 0, 0, 0], sigma: [1, 1, 1, 1] }, [rows]);
    expect(rates.samples).toBe(60_000);
    expect(rates.judged).toBe(4);
    const p1 = 0.158655; // P(z > 1)
    const p2 = 0.02275; // P(z > 2)
    // Per sensor-sample, both sides; WE2 and WE3 need the current sample in the zone (see RunRules).
    const expected = {
      WE1: 0.0027,
      WE2: 2 * p2 * (1 - (1 - p2) ** 2),
      WE3: 2 * p1 * (4 * p1 ** 3 * (1 - p1) + p1 ** 4),
      WE4: 2 / 256,
    };
    for (const [rule, rate] of Object.entries(expected) as [keyof typeof expected, number][]) {
      expect(Math.abs(rates.rules[rule].sensorRate / rate - 1), rule).toBeLessThan(0.15);
    }
    // Four sensors: some rule fires on about 1 − (1 − 0.017)^4 of the snapshots.
    expect(rates.any.sampleRate).toBeGreaterThan(0.05);
    expect(rates.any.sampleRate).toBeLessThan(0.08);
    expect(rates.any.onsetRate).toBeLessThan(rates.any.sampleRate);
  });

  it('restarts the rules at each run, so a run shorter than 8 never completes WE4', () => {
    const runs = Array.from({ length: 50 }, () => Array.from({ length: 7 }, () => [0.5]));
    expect(measureFiringRates(['a'], { center: [0], sigma: [1] }, runs).rules.WE4.sampleRate).toBe(0);
    expect(measureFiringRates(['a'], { center: [0], sigma: [1] }, [runs.flat()]).rules.WE4.sampleRate).toBeCloseTo(343 / 350, 6);
  });
});
