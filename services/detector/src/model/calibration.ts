import { empiricalQuantile, lag1Autocorrelation } from './stats.js';

/**
 * How a limit was set from held-out normal values:
 * - `empirical`: their (1 − rate) quantile, when at least MIN_TAIL_EVENTS of them are expected above it;
 * - `tail`: rarer targets, extrapolated with an exponential tail fitted to their top TAIL_FRACTION;
 * - `theory`: too few held-out values; the distributional limit stands;
 * - `raise-only`: too few effectively independent values (MIN_EFFECTIVE_ROWS) to lower a limit, only to raise it.
 */
export type CalibrationMethod = 'empirical' | 'tail' | 'theory' | 'raise-only';

/**
 * Below 10 expected exceedances the empirical quantile is one of the few largest values and its exceedance rate
 * scatters by a factor of 2 or more from one sample to the next (binomial: ±1/√10 ≈ ±32% at 10).
 */
export const MIN_TAIL_EVENTS = 10;
/**
 * The tail fit uses the values above the 90th percentile. T² and SPE are scaled-χ²-like, whose tails decay about
 * exponentially there, and the fit rests on 10% of the held-out values (not the one or two a 0.1% quantile would).
 * Measured on 2000 draws per fit, target 0.1%: χ²₁ gives a median achieved rate of 1.3‰, χ²₃ 1.0‰, χ²₁₀ 0.6‰
 * (the mean excess of a many-degree χ² still shrinks further out, so the fit errs high), max(χ²₁₀, χ²₂) 0.8‰;
 * 90% of fits land within about 0.3–2.2‰. A scaled χ² fitted to two quantiles was less biased but scattered more.
 * The fit never goes below the plain empirical quantile (see upperQuantile), so the held-out rate never exceeds
 * the target: on the synthetic PCA of calibration.test.ts that costs a little (geometric mean 0.95‰ → 0.90‰).
 */
export const TAIL_FRACTION = 0.1;
/** Fewer held-out values than this leave even the tail fit to a handful of points: keep the theory limit. */
export const MIN_CALIBRATION_ROWS = 50;

/**
 * Lowering a limit below theory rests on the held-out tail saying the process is quieter than assumed, and
 * autocorrelated rows say less than their count suggests. With fewer effectively independent held-out rows than
 * this, limits may only rise: the top 10% the tail fit rests on would be under 20 independent values (a 10 Hz
 * recording of 60 s has ~15), too few to bet the false-alarm rate on.
 */
export const MIN_EFFECTIVE_ROWS = 200;

/** Effectively independent values in a series: n(1−ρ)/(1+ρ), ρ its lag-1 autocorrelation (clamped to [0, 0.99]). */
export function effectiveCount(values: readonly number[]): number {
  const rho = Math.min(0.99, Math.max(0, lag1Autocorrelation(values)));
  return (values.length * (1 - rho)) / (1 + rho);
}

/** Share of `values` strictly above `limit`. */
export function exceedance(values: readonly number[], limit: number): number {
  if (values.length === 0) return NaN;
  let over = 0;
  for (const v of values) if (v > limit) over++;
  return over / values.length;
}

/**
 * The value that a share `rate` of future values like `values` will exceed (0 < rate < 1).
 * Returns undefined (method `theory`) when there are too few values to say.
 *
 * @example upperQuantile(heldOutScores, 0.001) // → { value: 1.07, method: 'tail' } for 2000 held-out rows
 */
export function upperQuantile(values: readonly number[], rate: number): { value: number | undefined; method: CalibrationMethod } {
  if (!(rate > 0 && rate < 1)) throw new Error(`rate must be in (0,1), got ${rate}`);
  const n = values.length;
  if (n < MIN_CALIBRATION_ROWS) return { value: undefined, method: 'theory' };
  if (n * rate >= MIN_TAIL_EVENTS) return { value: empiricalQuantile(values, 1 - rate), method: 'empirical' };
  // Peaks over threshold with an exponential tail: P(V > u + y) = q·exp(−y/β), β the mean excess over u.
  const q = TAIL_FRACTION;
  const u = empiricalQuantile(values, 1 - q);
  let sum = 0;
  let count = 0;
  for (const v of values) {
    if (v > u) {
      sum += v - u;
      count++;
    }
  }
  const beta = count > 0 ? sum / count : 0;
  // Where the held-out values themselves exceed the fitted value more often than `rate` allows, they win: the
  // fit extrapolates a shape, the count is evidence (a mixture of regimes has a heavier tail than its top 10%).
  return { value: Math.max(u + beta * Math.log(q / rate), empiricalQuantile(values, 1 - rate)), method: 'tail' };
}
