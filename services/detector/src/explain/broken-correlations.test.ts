import { BrokenCorrelationSchema } from '@linewatch/protocol';
import { describe, expect, it } from 'vitest';
import { gaussian, rng } from '../model/synthetic.test-support.js';
import { brokenCorrelations, pairBreak, standardise, strongPairs } from './broken-correlations.js';

const FEATURES = ['rf_power', 'dc_bias', 'chuck_temp', 'cl2_flow', 'throttle_valve', 'he_flow'];

/**
 * Normal rows: rf_power and dc_bias follow one driver (r ≈ 0.99), cl2_flow and throttle_valve another with
 * opposite signs (r ≈ −0.9), chuck_temp and he_flow are independent noise.
 */
function normalRows(count: number, seed: number): number[][] {
  const normal = gaussian(rng(seed));
  return Array.from({ length: count }, () => {
    const rf = normal();
    const gas = normal();
    return [900 + 10 * rf, 200 + 2 * (rf + 0.1 * normal()), 60 + normal(), 80 + 5 * (gas + 0.45 * normal()), 36 - 3 * (gas + 0.45 * normal()), 5 + normal()];
  });
}

describe('strongPairs', () => {
  const rows = normalRows(5000, 1);

  it('keeps the strongly correlated pairs, strongest first, with r rounded for metadata', () => {
    const pairs = strongPairs(FEATURES, rows);
    expect(pairs.map(([i, j]) => [FEATURES[i], FEATURES[j]])).toEqual([
      ['rf_power', 'dc_bias'],
      ['cl2_flow', 'throttle_valve'],
    ]);
    expect(pairs[0]?.[2]).toBeCloseTo(0.995, 2);
    expect(pairs[1]?.[2]).toBeCloseTo(-0.83, 1);
    expect(JSON.stringify(pairs)).toMatch(/^\[\[0,1,0\.99\d{0,2}\],\[3,4,-0\.8\d{0,3}\]\]$/);
  });

  it('honours minAbs and max, and pairs nothing with a constant feature', () => {
    expect(strongPairs(FEATURES, rows, { max: 1 })).toHaveLength(1);
    expect(strongPairs(FEATURES, rows, { minAbs: 0.9 })).toHaveLength(1);
    expect(strongPairs(['a', 'b'], [[1, 5], [2, 5], [3, 5], [4, 5]])).toEqual([]);
  });

  it('breaks are standard normal on normal data, so the limit of 4 is rarely crossed', () => {
    const pairs = strongPairs(FEATURES, rows);
    const held = normalRows(10_000, 2);
    const mean = FEATURES.map((_, j) => rows.reduce((s, r) => s + (r[j] as number), 0) / rows.length);
    const std = FEATURES.map((_, j) => Math.sqrt(rows.reduce((s, r) => s + ((r[j] as number) - (mean[j] as number)) ** 2, 0) / (rows.length - 1)));
    const zs = held.map((row) => standardise(Object.fromEntries(FEATURES.map((f, k) => [f, row[k] as number])), { features: FEATURES, mean, std }));
    for (const [i, j, r] of pairs) {
      const sd = Math.sqrt(zs.reduce((s, z) => s + pairBreak(z[i] as number, z[j] as number, r) ** 2, 0) / zs.length);
      expect(sd).toBeGreaterThan(0.9);
      expect(sd).toBeLessThan(1.1);
    }
    const named = zs.filter((z) => brokenCorrelations(pairs, z, FEATURES).length > 0).length;
    expect(named).toBeLessThan(10);
  });
});

describe('brokenCorrelations', () => {
  const pairs = strongPairs(FEATURES, normalRows(5000, 1));
  const z = (values: Partial<Record<string, number>>): number[] => FEATURES.map((f) => values[f] ?? 0);

  it('names a decoupled pair first, then weaker breaks, and nothing else', () => {
    // dc_bias 6σ off while rf_power is normal: the bias no longer follows the power.
    const broken = brokenCorrelations(pairs, z({ dc_bias: 6, cl2_flow: 2.5, throttle_valve: 0.5 }), FEATURES);
    expect(broken.map((b) => b.sensors)).toEqual([
      ['rf_power', 'dc_bias'],
      ['cl2_flow', 'throttle_valve'],
    ]);
    expect(broken[0]).toMatchObject({ z: [0, 6] });
    expect(broken[0]?.correlation).toBeCloseTo(0.995, 2);
    for (const b of broken) expect(BrokenCorrelationSchema.parse(b)).toEqual(b);
    expect(brokenCorrelations(pairs, z({ dc_bias: 6, cl2_flow: 2.5, throttle_valve: 0.5 }), FEATURES, 1)).toHaveLength(1);
  });

  it('does not name a joint shift along the normal relation, however large', () => {
    // The conditional residual (z_j − r·z_i)/√(1−r²) would name cl2/valve here: 20 − 0.83·20 over 0.56 is 6.
    expect(brokenCorrelations(pairs, z({ rf_power: 8, dc_bias: 8, cl2_flow: 20, throttle_valve: -20, chuck_temp: 5 }), FEATURES)).toEqual([]);
  });

  it('skips a pair with a missing reading', () => {
    expect(brokenCorrelations(pairs, z({ rf_power: Number.NaN, dc_bias: 6 }), FEATURES)).toEqual([]);
  });
});
