import { parseArgs } from 'node:util';
import { median, round } from '../bench/stats.js';

/** `npm run soak` options; every one has a default, so `npm run soak` alone is the 10-minute run. */
export interface SoakArgs {
  /** Length of the load phase. Flag --minutes, env SOAK_MINUTES; default 10. */
  minutes: number;
  /** Seconds between two rows of the table. Flag --interval, env SOAK_INTERVAL_S; default 10. */
  intervalS: number;
  /** Snapshots a second, all stations together. Flag --rate; default 1000 (the target). */
  rate: number;
  /** Stations sharing the rate. Flag --stations; default 20 (50 Hz each). */
  stations: number;
  /** Keep the soak's InfluxDB database for a look afterwards. */
  keep: boolean;
  /** Folder of the JSON and Markdown reports, relative to the repo root. */
  outDir: string;
}

/** Fewer judged samples than this and the memory verdict says "too short to judge" instead of guessing. */
export const MIN_JUDGED_SAMPLES = 6;

function bounded(name: string, raw: string, min: number, max: number, integer: boolean, problems: string[]): number {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    problems.push(`${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max} (got ${raw})`);
  }
  return n;
}

/** Parses argv (after `--`) and env; throws one Error naming every bad value, and refuses unknown flags. */
export function parseSoakArgs(argv: string[], env: Record<string, string | undefined>): SoakArgs {
  const { values } = parseArgs({
    args: argv,
    options: {
      minutes: { type: 'string' }, interval: { type: 'string' }, rate: { type: 'string' }, stations: { type: 'string' },
      keep: { type: 'boolean', default: false }, out: { type: 'string' },
    },
    strict: true,
  });
  const problems: string[] = [];
  const minutes = bounded('--minutes', values.minutes ?? env.SOAK_MINUTES ?? '10', 1, 7 * 24 * 60, false, problems);
  const intervalS = bounded('--interval', values.interval ?? env.SOAK_INTERVAL_S ?? '10', 1, 600, false, problems);
  const rate = bounded('--rate', values.rate ?? '1000', 1, 20_000, true, problems);
  const stations = bounded('--stations', values.stations ?? '20', 1, 200, true, problems);
  const judged = Math.floor((minutes * 60 - warmupSeconds(minutes * 60)) / intervalS);
  if (problems.length === 0 && judged < MIN_JUDGED_SAMPLES) {
    problems.push(`--minutes ${minutes} at --interval ${intervalS} leaves ${judged} rows after the warm-up to judge memory by (need ${MIN_JUDGED_SAMPLES})`);
  }
  if (problems.length > 0) throw new Error(problems.join('; '));
  return { minutes, intervalS, rate, stations, keep: values.keep === true, outDir: values.out ?? 'test/artifacts/soak' };
}

/** Least-squares slope of y over x; NaN with fewer than two distinct x. */
export function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = Math.min(xs.length, ys.length);
  if (n < 2) return Number.NaN;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += xs[i]!;
    my += ys[i]!;
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
  }
  return sxx === 0 ? Number.NaN : sxy / sxx;
}

/**
 * When memory "grows without bound". A bounded process still grows while V8 sizes its heaps and the JIT warms up,
 * and its RSS saw-tooths with GC, so one rule alone is wrong either way:
 * - the least-squares trend after the warm-up, projected over 24 h, must exceed `limitMiBPer24h` (a process that
 *   adds that much a day needs a restart within the week: a leak, whatever its cause), AND
 * - the median of the last third of the judged samples must exceed the median of the middle third by the margin
 *   (medians shrug off GC spikes; comparing thirds says the growth is still going on at the end, not a step early on).
 * A short run can only see fast leaks (the margin over a third of the judged span); the verdict says how fast.
 */
export interface GrowthRule {
  /** Share of the run left out at its start… */
  warmupFraction: number;
  /** …but at least this (s): at 1,000/s the detector's RSS still climbs ~60 MiB in its first 30 s, then falls back… */
  warmupMinS: number;
  /** …and never more than this (s), so a day-long soak judges most of its day. */
  warmupMaxS: number;
  limitMiBPer24h: number;
  /** The rise between the thirds' medians must exceed max(marginMiB, marginFraction × middle median). */
  marginMiB: number;
  marginFraction: number;
}

export const GROWTH_RULE: GrowthRule = { warmupFraction: 0.2, warmupMinS: 60, warmupMaxS: 600, limitMiBPer24h: 256, marginMiB: 16, marginFraction: 0.05 };

export interface MemorySample {
  /** Seconds since the load started. */
  tS: number;
  mib: number;
}

export interface GrowthVerdict {
  /** False with too few samples after the warm-up; the soak then fails, since its arguments guarantee enough rows. */
  judged: boolean;
  grows: boolean;
  samples: number;
  warmupS: number;
  slopeMiBPerH: number;
  projected24hMiB: number;
  middleMedianMiB: number;
  lastMedianMiB: number;
  marginMiB: number;
  /** The slowest growth this run could flag (MiB/h): the larger of the slope limit and the margin over a third of the span. */
  detectableMiBPerH: number;
  detail: string;
}

export function warmupSeconds(durationS: number, rule: GrowthRule = GROWTH_RULE): number {
  return Math.min(Math.max(durationS * rule.warmupFraction, rule.warmupMinS), rule.warmupMaxS);
}

export function growthVerdict(samples: readonly MemorySample[], durationS: number, rule: GrowthRule = GROWTH_RULE): GrowthVerdict {
  const warmupS = warmupSeconds(durationS, rule);
  const judged = samples.filter((s) => s.tS >= warmupS && Number.isFinite(s.mib));
  const n = judged.length;
  const third = Math.floor(n / 3);
  const middle = judged.slice(third, n - third).map((s) => s.mib);
  const last = judged.slice(n - third).map((s) => s.mib);
  const slopeMiBPerH = slope(judged.map((s) => s.tS / 3600), judged.map((s) => s.mib));
  const middleMedianMiB = median(middle);
  const lastMedianMiB = median(last);
  const marginMiB = Math.max(rule.marginMiB, rule.marginFraction * middleMedianMiB);
  const spanH = n > 1 ? (judged[n - 1]!.tS - judged[0]!.tS) / 3600 : Number.NaN;
  const detectableMiBPerH = Math.max(rule.limitMiBPer24h / 24, marginMiB / (spanH / 3));
  const base = {
    samples: n, warmupS, slopeMiBPerH: round(slopeMiBPerH, 2), projected24hMiB: round(slopeMiBPerH * 24, 1),
    middleMedianMiB: round(middleMedianMiB), lastMedianMiB: round(lastMedianMiB), marginMiB: round(marginMiB), detectableMiBPerH: round(detectableMiBPerH, 1),
  };
  if (n < MIN_JUDGED_SAMPLES) {
    return { ...base, judged: false, grows: false, detail: `not judged: ${n} samples after the ${round(warmupS, 0)} s warm-up, ${MIN_JUDGED_SAMPLES} needed` };
  }
  const trend = slopeMiBPerH * 24 > rule.limitMiBPer24h;
  const rise = lastMedianMiB - middleMedianMiB;
  const still = rise > marginMiB;
  const grows = trend && still;
  const detail =
    `trend ${base.slopeMiBPerH} MiB/h (${base.projected24hMiB} MiB/24h, limit ${rule.limitMiBPer24h}: ${trend ? 'over' : 'within'}); ` +
    `last-third median ${base.lastMedianMiB} vs middle ${base.middleMedianMiB} MiB (rise ${round(rise)}, margin ${base.marginMiB}: ${still ? 'over' : 'within'})`;
  return { ...base, judged: true, grows, detail };
}

/** One row of the table: what the soak reads every interval. NaN where a value could not be read. */
export interface IntervalRow {
  tS: number;
  publishedPerS: number;
  writtenPerS: number;
  scoredPerS: number;
  e2eP50Ms: number;
  e2eP99Ms: number;
  detectorRssMiB: number;
  detectorHeapMiB: number;
  apiRssMiB: number;
  apiHeapMiB: number;
  detectorLagP99Ms: number;
  apiLagP99Ms: number;
  /** The soak process's own loop: a stalled load generator shows here, not as a slow detector. */
  loadLagP99Ms: number;
  deadLetters: number;
  dropped: number;
  writeBuffer: number;
  apiReadingsPerS: number;
}

/** The median of `pick` over the last third of the rows after the warm-up (at least the last row). */
export function lastThirdMedian(rows: readonly IntervalRow[], warmupS: number, pick: (r: IntervalRow) => number): number {
  const after = rows.filter((r) => r.tS > warmupS);
  const pool = after.length > 0 ? after : rows;
  return median(pool.slice(pool.length - Math.max(1, Math.floor(pool.length / 3))).map(pick));
}

export interface Integrity {
  sent: number;
  stored: number;
  distinct: number;
  missing: number;
  duplicates: number;
}

/** Sent per station (from the load generator) against COUNT and COUNT(DISTINCT seq) per station (from InfluxDB). */
export function integrity(sent: ReadonlyMap<string, number>, stored: ReadonlyMap<string, { count: number; distinct: number }>): Integrity {
  let out: Integrity = { sent: 0, stored: 0, distinct: 0, missing: 0, duplicates: 0 };
  for (const station of new Set([...sent.keys(), ...stored.keys()])) {
    const s = sent.get(station) ?? 0;
    const db = stored.get(station) ?? { count: 0, distinct: 0 };
    out = {
      sent: out.sent + s, stored: out.stored + db.count, distinct: out.distinct + db.distinct,
      missing: out.missing + Math.max(0, s - db.distinct), duplicates: out.duplicates + (db.count - db.distinct),
    };
  }
  return out;
}

export interface SoakVerdict {
  ok: boolean;
  reasons: string[];
}

/** Every way the soak fails, each with its reason; `failures` are things seen during the run (a child that died). */
export function soakVerdict(input: {
  rate: number;
  rows: readonly IntervalRow[];
  durationS: number;
  memory: Record<string, GrowthVerdict>;
  integrity: Integrity;
  failures: readonly string[];
}): SoakVerdict {
  const reasons = [...input.failures];
  const floor = 0.95 * input.rate;
  const warmupS = warmupSeconds(input.durationS);
  const written = lastThirdMedian(input.rows, warmupS, (r) => r.writtenPerS);
  const published = lastThirdMedian(input.rows, warmupS, (r) => r.publishedPerS);
  if (!(published >= floor)) reasons.push(`load generator: last-third median ${round(published, 0)} snapshots/s published < 95 % of ${input.rate}/s`);
  if (!(written >= floor)) reasons.push(`throughput: last-third median ${round(written, 0)} readings/s written < 95 % of ${input.rate}/s`);
  for (const [proc, v] of Object.entries(input.memory)) {
    if (v.grows) reasons.push(`memory: ${proc} RSS grows without bound: ${v.detail}`);
    // The arguments guarantee enough rows, so an unjudged process had unreadable samples: no pass without a verdict.
    else if (!v.judged) reasons.push(`memory: ${proc} ${v.detail}`);
  }
  if (input.integrity.sent === 0) reasons.push('integrity: nothing was sent');
  if (input.integrity.missing > 0) reasons.push(`integrity: ${input.integrity.missing} of ${input.integrity.sent} readings missing in InfluxDB`);
  if (input.integrity.duplicates > 0) reasons.push(`integrity: ${input.integrity.duplicates} duplicate readings in InfluxDB`);
  return { ok: reasons.length === 0, reasons };
}
