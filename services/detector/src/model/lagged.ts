/**
 * How a model reads time. A model with `lags` L takes, per row, the current snapshot and the L before it
 * (`[x_t, x_t−1, …, x_t−L]`, each in `features` order); with `smoothing` w it averages w consecutive snapshots
 * first, so the PCA sees d+1 = L−w+2 smoothed snapshots: `s_t, s_t−1, …, s_t−d` with s_t = mean(x_t … x_t−w+1).
 * L = 0, w = 1 is the static PCA of one snapshot.
 */
export interface LagSpec {
  lags: number;
  smoothing: number;
}

export const STATIC_SPEC: LagSpec = { lags: 0, smoothing: 1 };

export function checkLagSpec({ lags, smoothing }: LagSpec): void {
  if (!(Number.isInteger(lags) && lags >= 0)) throw new Error(`lags must be an integer ≥ 0, got ${lags}`);
  if (!(Number.isInteger(smoothing) && smoothing >= 1 && smoothing <= lags + 1)) {
    throw new Error(`smoothing must be an integer in [1, lags + 1 = ${lags + 1}], got ${smoothing}`);
  }
}

/** Snapshots of history the PCA itself models (d): the input window less what smoothing uses up. */
export function pcaLags({ lags, smoothing }: LagSpec): number {
  return lags - smoothing + 1;
}

export function isStatic(spec: LagSpec): boolean {
  return spec.lags === 0 && spec.smoothing === 1;
}

/** The spec that gives the PCA d lags of w-snapshot averages. */
export function specFor(pcaLagCount: number, smoothing: number): LagSpec {
  return { lags: pcaLagCount + smoothing - 1, smoothing };
}

/**
 * Segment id per row: consecutive rows belong to one stretch of time (and so may share a lag window) only while
 * their run and their key (e.g. the process context) stay the same. Without `runs` every row is one run.
 */
export function segmentIds(keys: readonly string[] | undefined, runs: readonly number[] | undefined, n: number): number[] {
  if (keys && keys.length !== n) throw new Error(`got ${keys.length} segment keys for ${n} rows`);
  if (runs && runs.length !== n) throw new Error(`got ${runs.length} run ids for ${n} rows`);
  const ids: number[] = [];
  let id = 0;
  for (let i = 0; i < n; i++) {
    if (i > 0 && (keys?.[i] !== keys?.[i - 1] || runs?.[i] !== runs?.[i - 1])) id++;
    ids.push(id);
  }
  return ids;
}

/** The typical time between consecutive snapshots (ms): the median positive step of the timestamps. */
export function medianStep(ts: readonly number[]): number | undefined {
  const steps = ts.slice(1).map((t, i) => t - (ts[i] as number)).filter((d) => d > 0).sort((a, b) => a - b);
  return steps[Math.floor(steps.length / 2)];
}

/**
 * Run ids from timestamps: a new run starts where time goes backwards or a gap exceeds `factor` times the median
 * step (a dropped stretch, left-out faulty rows, the next recording), so no lag window spans it.
 */
export function runsFromTimestamps(ts: readonly number[], factor = 3): number[] {
  const maxGap = factor * (medianStep(ts) ?? Infinity);
  let run = 0;
  return ts.map((t, i) => {
    const gap = i === 0 ? 0 : t - (ts[i - 1] as number);
    if (i > 0 && (gap <= 0 || gap > maxGap)) run++;
    return run;
  });
}

/** Rows that end a full window: the `lags` rows before each are in its segment. Rows of a segment keep their order. */
export function windowEnds(segments: readonly number[] | undefined, n: number, lags: number): number[] {
  const ends: number[] = [];
  let since = 0;
  for (let i = 0; i < n; i++) {
    since = i > 0 && segments?.[i] === segments?.[i - 1] ? since + 1 : 0;
    if (since >= lags) ends.push(i);
  }
  return ends;
}

/** The model input for the window ending at row `end`: current row first, then each earlier one. */
export function stackWindow(rows: readonly (readonly number[])[], end: number, lags: number): number[] {
  const out: number[] = [];
  for (let l = 0; l <= lags; l++) out.push(...(rows[end - l] as number[]));
  return out;
}
