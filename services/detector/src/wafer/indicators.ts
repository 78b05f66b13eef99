import type { WaferStat } from '@linewatch/protocol';

/** Per-sensor indicators of one step; `duration` is the step's own and has no sensor. */
export type SensorStat = Exclude<WaferStat, 'duration'>;
export const SENSOR_STATS: readonly SensorStat[] = ['mean', 'std', 'slope', 'min', 'max'];

/**
 * The indicators a wafer model uses by default: each sensor's mean and standard deviation over the step, and the
 * step's duration. Slope, min and max are computed and shown too, but on the LAM 9600 data they add more noise
 * than signal (docs/detection.md has the comparison), so a model takes them only when trained with them.
 */
export const DEFAULT_MODEL_STATS: readonly SensorStat[] = ['mean', 'std'];

/** The name of the step-duration indicator; `step` is not a sensor name the simulator or an import uses. */
export const DURATION_INDICATOR = 'step__duration';

/** Indicator feature name, e.g. `rf_power__mean`: a valid sensor name, so it fits the model contract as is. */
export function indicatorName(sensor: string, stat: SensorStat): string {
  return `${sensor}__${stat}`;
}

/** Splits an indicator name back into sensor and stat (for contributors). */
export function parseIndicator(name: string): { sensor: string; stat: WaferStat } {
  if (name === DURATION_INDICATOR) return { sensor: 'step', stat: 'duration' };
  const at = name.lastIndexOf('__');
  return { sensor: name.slice(0, at), stat: name.slice(at + 2) as WaferStat };
}

/** Indicator names of a model over `sensors`, in a fixed order: sensor by sensor, stat by stat, then duration. */
export function indicatorNames(sensors: readonly string[], stats: readonly SensorStat[] = DEFAULT_MODEL_STATS): string[] {
  return [...sensors.flatMap((s) => stats.map((stat) => indicatorName(s, stat))), DURATION_INDICATOR];
}

/** A step with fewer snapshots than this gets no verdict: its spread and slope would mean nothing. */
export const MIN_STEP_SAMPLES = 3;

/** What one wafer's step came to. */
export interface StepSummary {
  samples: number;
  /** ts of the first and last snapshot. */
  start: number;
  end: number;
  /** Seconds from the first to the last snapshot. */
  duration: number;
  /** Every indicator by name, duration included; sensors missing from some snapshots use the ones that had them. */
  indicators: Map<string, number>;
}

interface SensorSums {
  n: number;
  /** The first value: sums are kept relative to it, so large readings (10⁴ and up) lose no precision. */
  origin: number;
  sum: number;
  sumSq: number;
  sumT: number;
  sumTT: number;
  sumXT: number;
  min: number;
  max: number;
}

/**
 * Accumulates one wafer's step in O(sensors) memory: sums for mean, std and least-squares slope, plus min and max.
 * Time is in seconds from the step's first snapshot, so slopes are per second.
 */
export class StepTrace {
  private readonly sensors = new Map<string, SensorSums>();
  private first = Number.NaN;
  private last = Number.NaN;
  private count = 0;

  get samples(): number {
    return this.count;
  }

  add(ts: number, values: Readonly<Record<string, number>>): void {
    if (this.count === 0) this.first = ts;
    this.last = ts;
    this.count++;
    const t = (ts - this.first) / 1000;
    for (const sensor in values) {
      const x = values[sensor] as number;
      let s = this.sensors.get(sensor);
      if (!s) {
        s = { n: 0, origin: x, sum: 0, sumSq: 0, sumT: 0, sumTT: 0, sumXT: 0, min: x, max: x };
        this.sensors.set(sensor, s);
      }
      const d = x - s.origin;
      s.n++;
      s.sum += d;
      s.sumSq += d * d;
      s.sumT += t;
      s.sumTT += t * t;
      s.sumXT += d * t;
      if (x < s.min) s.min = x;
      if (x > s.max) s.max = x;
    }
  }

  finish(): StepSummary {
    const indicators = new Map<string, number>();
    for (const [sensor, s] of this.sensors) {
      const mean = s.sum / s.n;
      const variance = s.n > 1 ? Math.max(0, (s.sumSq - s.n * mean * mean) / (s.n - 1)) : 0;
      const tVar = s.sumTT - (s.sumT * s.sumT) / s.n;
      const slope = s.n > 1 && tVar > 0 ? (s.sumXT - (s.sumT * s.sum) / s.n) / tVar : 0;
      indicators.set(indicatorName(sensor, 'mean'), s.origin + mean);
      indicators.set(indicatorName(sensor, 'std'), Math.sqrt(variance));
      indicators.set(indicatorName(sensor, 'slope'), slope);
      indicators.set(indicatorName(sensor, 'min'), s.min);
      indicators.set(indicatorName(sensor, 'max'), s.max);
    }
    const duration = this.count > 0 ? (this.last - this.first) / 1000 : 0;
    indicators.set(DURATION_INDICATOR, duration);
    return { samples: this.count, start: this.first, end: this.last, duration, indicators };
  }
}

/**
 * Indicator values in `names` order, from a step's summary (`summary.indicators`) or a baseline's record, or the
 * first name missing or not finite (a sensor the step never reported, an indicator the baseline lacks).
 */
export function indicatorVector(values: ReadonlyMap<string, number> | Readonly<Record<string, number>>, names: readonly string[]): Float64Array | { missing: string } {
  const get = values instanceof Map ? (n: string) => values.get(n) : (n: string) => (values as Readonly<Record<string, number>>)[n];
  const out = new Float64Array(names.length);
  for (let i = 0; i < names.length; i++) {
    const v = get(names[i] as string);
    if (v === undefined || !Number.isFinite(v)) return { missing: names[i] as string };
    out[i] = v;
  }
  return out;
}
