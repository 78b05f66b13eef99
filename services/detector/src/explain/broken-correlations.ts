import type { BrokenCorrelation } from '@linewatch/protocol';

/** A strongly correlated feature pair of a model's normal data: indices into `features` and Pearson r. */
export type CorrelatedPair = [i: number, j: number, r: number];

export interface StrongPairOptions {
  /** Smallest |r| kept (default 0.7). */
  minAbs?: number;
  /** Most pairs kept, strongest first (default 20): the list lives in model metadata and is checked per anomaly. */
  max?: number;
}

/** |r| this close to 1 makes the pair's minor axis numerically zero; capped so the statistic stays finite. */
const MAX_ABS_R = 0.9999;

/**
 * The strongly correlated pairs of normal rows, strongest first, r rounded to 4 decimals so the list is
 * compact JSON (`[[0, 3, 0.9731], ...]`) for model metadata. Constant features pair with nothing.
 *
 * @example
 * strongPairs(['rf', 'bias', 'temp'], rows, { minAbs: 0.7, max: 20 }); // [[0, 1, 0.98]]
 */
export function strongPairs(features: readonly string[], rows: readonly ArrayLike<number>[], opts: StrongPairOptions = {}): CorrelatedPair[] {
  const { minAbs = 0.7, max = 20 } = opts;
  const p = features.length;
  const n = rows.length;
  if (n < 3) return [];
  const mean = new Float64Array(p);
  for (const row of rows) for (let j = 0; j < p; j++) mean[j] = (mean[j] as number) + (row[j] as number) / n;
  // Cross-products of the centred rows: the upper triangle of the covariance matrix, scaled by n − 1.
  const cross = new Float64Array(p * p);
  const centred = new Float64Array(p);
  for (const row of rows) {
    for (let j = 0; j < p; j++) centred[j] = (row[j] as number) - (mean[j] as number);
    for (let a = 0; a < p; a++) {
      const ca = centred[a] as number;
      for (let b = a; b < p; b++) cross[a * p + b] = (cross[a * p + b] as number) + ca * (centred[b] as number);
    }
  }
  const pairs: CorrelatedPair[] = [];
  for (let a = 0; a < p; a++) {
    for (let b = a + 1; b < p; b++) {
      const denom = Math.sqrt((cross[a * p + a] as number) * (cross[b * p + b] as number));
      if (!(denom > 0)) continue;
      const r = (cross[a * p + b] as number) / denom;
      if (Math.abs(r) >= minAbs) pairs.push([a, b, Math.round(r * 1e4) / 1e4]);
    }
  }
  return pairs.sort((x, y) => Math.abs(y[2]) - Math.abs(x[2]) || x[0] - y[0] || x[1] - y[1]).slice(0, max);
}

/**
 * How far a pair's standardised values sit off their normal relation. Under the bivariate normal with
 * correlation r the pair decomposes into two independent N(0, 1) coordinates along the axes of its ellipse:
 * u = (z_i + s·z_j)/√(2(1+|r|)) along the relation (both move together, as in a joint shift) and
 * v = (z_i − s·z_j)/√(2(1−|r|)) across it, s = sign(r). |v| is the "broken" statistic. It is symmetric in the
 * pair and zero for any move along the relation, however large. The conditional residual (z_j − r·z_i)/√(1−r²)
 * is not: it grows with a joint shift (regression toward the mean), so a large shift of both sensors together,
 * which T² already explains, would read as a broken correlation.
 */
export function pairBreak(zi: number, zj: number, r: number): number {
  const ar = Math.min(Math.abs(r), MAX_ABS_R);
  return (zi - Math.sign(r) * zj) / Math.sqrt(2 * (1 - ar));
}

/**
 * The pairs of `pairs` whose current standardised values `z` (in `features` order) break their normal relation:
 * |pairBreak| > `limit` (default 4: one pair in ~16,000 normal snapshots), strongest break first, at most `top`.
 */
export function brokenCorrelations(
  pairs: readonly CorrelatedPair[],
  z: ArrayLike<number>,
  features: readonly string[],
  top = 5,
  limit = 4,
): BrokenCorrelation[] {
  const found: { b: number; out: BrokenCorrelation }[] = [];
  for (const [i, j, r] of pairs) {
    const zi = z[i];
    const zj = z[j];
    const si = features[i];
    const sj = features[j];
    // A pair with a missing (NaN) or unusable reading is not named.
    if (si === undefined || sj === undefined || !Number.isFinite(zi) || !Number.isFinite(zj)) continue;
    const b = Math.abs(pairBreak(zi as number, zj as number, r));
    if (b > limit) found.push({ b, out: { sensors: [si, sj], correlation: r, z: [zi as number, zj as number] } });
  }
  return found
    .sort((x, y) => y.b - x.b)
    .slice(0, top)
    .map((f) => f.out);
}

/** z-scores of a snapshot against a model's training mean and std, in `features` order (NaN where absent). */
export function standardise(
  values: Readonly<Record<string, number>>,
  model: { features: readonly string[]; mean: readonly number[]; std: readonly number[] },
): Float64Array {
  return Float64Array.from(model.features, (f, i) => {
    const s = model.std[i] ?? 0;
    return ((values[f] ?? Number.NaN) - (model.mean[i] ?? 0)) / (s > 0 ? s : 1);
  });
}
