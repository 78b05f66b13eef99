/**
 * The few distribution functions the PCA control limits need, written out so the model
 * needs no statistics dependency. Algorithms follow Numerical Recipes (3rd ed., §6.1–6.4)
 * and Acklam's rational approximation of the normal quantile.
 */

// The published Lanczos coefficients (Numerical Recipes' gammln), kept digit for digit as printed.
/* eslint-disable no-loss-of-precision */
const LANCZOS = [
  76.18009172947146, -86.50532032941677, 24.01409824083091, -1.231739572450155, 0.1208650973866179e-2,
  -0.5395239384953e-5,
];
/* eslint-enable no-loss-of-precision */

/** ln Γ(x) for x > 0. */
export function lnGamma(x: number): number {
  let y = x;
  const tmp = x + 5.5 - (x + 0.5) * Math.log(x + 5.5);
  let ser = 1.000000000190015;
  for (const c of LANCZOS) ser += c / ++y;
  return -tmp + Math.log((Math.sqrt(2 * Math.PI) * ser) / x);
}

const EPS = 1e-15;
const TINY = 1e-300;
const MAX_ITER = 100_000;

/** Regularised lower incomplete gamma P(a, x). */
export function gammaP(a: number, x: number): number {
  if (x <= 0) return 0;
  const lnPrefix = -x + a * Math.log(x) - lnGamma(a);
  if (x < a + 1) {
    // Series converges quickly below the mode.
    let ap = a;
    let del = 1 / a;
    let sum = del;
    for (let i = 0; i < MAX_ITER && Math.abs(del) > Math.abs(sum) * EPS; i++) {
      del *= x / ++ap;
      sum += del;
    }
    return Math.min(1, sum * Math.exp(lnPrefix));
  }
  // Continued fraction (modified Lentz) for Q(a, x) above the mode.
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < MAX_ITER; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < EPS) break;
  }
  return Math.max(0, 1 - Math.exp(lnPrefix) * h);
}

/** Standard normal quantile (Acklam; relative error below 1.2e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new Error(`normalQuantile: p must be in (0,1), got ${p}`);
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628274631];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const [a0, a1, a2, a3, a4, a5] = a as [number, number, number, number, number, number];
  const [b0, b1, b2, b3, b4] = b as [number, number, number, number, number];
  const [c0, c1, c2, c3, c4, c5] = c as [number, number, number, number, number, number];
  const [d0, d1, d2, d3] = d as [number, number, number, number];
  const tail = (q: number): number =>
    (((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) / ((((d0 * q + d1) * q + d2) * q + d3) * q + 1);
  if (p < 0.02425) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - 0.02425) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5;
  const r = q * q;
  return ((((((a0 * r + a1) * r + a2) * r + a3) * r + a4) * r + a5) * q) / (((((b0 * r + b1) * r + b2) * r + b3) * r + b4) * r + 1);
}

/**
 * χ² quantile with `df` degrees of freedom (real df allowed, as Box's approximation needs).
 * Starts from Wilson–Hilferty, then Newton on P(df/2, x/2) = p, kept inside a bracket by bisection.
 */
export function chi2Quantile(df: number, p: number): number {
  if (!(df > 0)) throw new Error(`chi2Quantile: df must be > 0, got ${df}`);
  if (!(p > 0 && p < 1)) throw new Error(`chi2Quantile: p must be in (0,1), got ${p}`);
  const a = df / 2;
  const cdf = (x: number): number => gammaP(a, x / 2);
  const pdf = (x: number): number => Math.exp((a - 1) * Math.log(x / 2) - x / 2 - lnGamma(a)) / 2;
  const z = normalQuantile(p);
  const v = 2 / (9 * df);
  let x = Math.max(1e-8, df * (1 - v + z * Math.sqrt(v)) ** 3);
  let lo = 0;
  let hi = Math.max(x * 2, df + 10 * Math.sqrt(2 * df) + 10);
  while (cdf(hi) < p) hi *= 2;
  for (let i = 0; i < 200; i++) {
    const f = cdf(x) - p;
    if (f < 0) lo = x;
    else hi = x;
    if (Math.abs(f) < 1e-14 || hi - lo < 1e-12 * Math.max(1, x)) break;
    const step = f / pdf(x);
    let next = x - step;
    if (!Number.isFinite(next) || next <= lo || next >= hi) next = (lo + hi) / 2;
    x = next;
  }
  return x;
}

/** Regularised incomplete beta I_x(a, b). */
export function betaI(a: number, b: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const lnFront = lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log(1 - x);
  // The continued fraction converges fast only on one side of the mean; use the symmetry otherwise.
  if (x < (a + 1) / (a + b + 2)) return (Math.exp(lnFront) * betaCf(a, b, x)) / a;
  return 1 - (Math.exp(lnFront) * betaCf(b, a, 1 - x)) / b;
}

function betaCf(a: number, b: number, x: number): number {
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  for (let m = 1; m < MAX_ITER; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < EPS) break;
  }
  return h;
}

/** Quantile of the F distribution F(d1, d2), via X = d2·B / (d1·(1−B)) with B ~ Beta(d1/2, d2/2). */
export function fQuantile(d1: number, d2: number, p: number): number {
  if (!(d1 > 0 && d2 > 0)) throw new Error(`fQuantile: degrees of freedom must be > 0, got ${d1}, ${d2}`);
  if (!(p > 0 && p < 1)) throw new Error(`fQuantile: p must be in (0,1), got ${p}`);
  let lo = 0;
  let hi = 1;
  // Bisection is slow but cannot diverge; 200 halvings exhaust double precision.
  for (let i = 0; i < 200 && hi - lo > 1e-16; i++) {
    const mid = (lo + hi) / 2;
    if (betaI(d1 / 2, d2 / 2, mid) < p) lo = mid;
    else hi = mid;
  }
  const beta = (lo + hi) / 2;
  return (d2 * beta) / (d1 * (1 - beta));
}

/** Empirical quantile (linear interpolation between order statistics, as R type 7). */
export function empiricalQuantile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new Error('empiricalQuantile: no values');
  const sorted = [...values].sort((x, y) => x - y);
  const pos = (sorted.length - 1) * p;
  const i = Math.floor(pos);
  const lower = sorted[i] as number;
  const upper = sorted[Math.min(i + 1, sorted.length - 1)] as number;
  return lower + (upper - lower) * (pos - i);
}

/** Lag-1 autocorrelation of a series (0 for fewer than 3 values or no variance). */
export function lag1Autocorrelation(values: readonly number[]): number {
  const n = values.length;
  if (n < 3) return 0;
  const mean = values.reduce((s, v) => s + v, 0) / n;
  let variance = 0;
  let lagged = 0;
  for (let i = 0; i < n; i++) {
    const d = (values[i] as number) - mean;
    variance += d * d;
    if (i > 0) lagged += d * ((values[i - 1] as number) - mean);
  }
  return variance > 0 ? lagged / variance : 0;
}
