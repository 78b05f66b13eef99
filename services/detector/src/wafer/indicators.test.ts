import { describe, expect, it } from 'vitest';
import { gaussian, rng } from '../model/synthetic.test-support.js';
import { DEFAULT_MODEL_STATS, DURATION_INDICATOR, SENSOR_STATS, StepTrace, indicatorName, indicatorNames, indicatorVector, parseIndicator } from './indicators.js';

const T0 = 1_764_400_000_000;

/** Two-pass reference statistics (numerically careful) of one sensor: time in seconds from `t0`. */
function reference(ts: readonly number[], xs: readonly number[], t0: number): { mean: number; std: number; slope: number; min: number; max: number } {
  const n = xs.length;
  const mean = xs.reduce((s, x) => s + x, 0) / n;
  const std = n > 1 ? Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1)) : 0;
  const t = ts.map((v) => (v - t0) / 1000);
  const tMean = t.reduce((s, v) => s + v, 0) / n;
  const sxx = t.reduce((s, v) => s + (v - tMean) ** 2, 0);
  const slope = sxx > 0 ? t.reduce((s, v, i) => s + (v - tMean) * ((xs[i] as number) - mean), 0) / sxx : 0;
  return { mean, std, slope, min: Math.min(...xs), max: Math.max(...xs) };
}

/** Irregular sampling, as a real tool's timestamps are: 0.9–1.4 s apart. */
function timestamps(n: number, seed: number): number[] {
  const next = rng(seed);
  const out = [T0];
  while (out.length < n) out.push((out.at(-1) as number) + 900 + Math.round(500 * next()));
  return out;
}

function expectClose(actual: number | undefined, expected: number, rel: number): void {
  expect(actual).toBeDefined();
  expect(Math.abs((actual as number) - expected)).toBeLessThanOrEqual(rel * Math.max(Math.abs(expected), 1e-300));
}

describe('StepTrace', () => {
  it('computes mean, sample std, slope per second, min, max and duration as a two-pass reference does', () => {
    const ts = timestamps(120, 1);
    const g = gaussian(rng(2));
    const rf = ts.map((t) => 1500 + 0.8 * ((t - T0) / 1000) + 5 * g());
    const pressure = ts.map(() => 0.12 + 0.004 * g());
    const trace = new StepTrace();
    ts.forEach((t, i) => trace.add(t, { rf_power: rf[i] as number, chamber_pressure: pressure[i] as number }));
    const s = trace.finish();

    expect(s.samples).toBe(120);
    expect(s.start).toBe(T0);
    expect(s.end).toBe(ts.at(-1));
    expect(s.duration).toBe(((ts.at(-1) as number) - T0) / 1000);
    expect(s.indicators.get(DURATION_INDICATOR)).toBe(s.duration);
    for (const [sensor, xs] of [['rf_power', rf], ['chamber_pressure', pressure]] as const) {
      const want = reference(ts, xs, T0);
      expectClose(s.indicators.get(`${sensor}__mean`), want.mean, 1e-12);
      expectClose(s.indicators.get(`${sensor}__std`), want.std, 1e-9);
      expectClose(s.indicators.get(`${sensor}__slope`), want.slope, 1e-9);
      expect(s.indicators.get(`${sensor}__min`)).toBe(want.min);
      expect(s.indicators.get(`${sensor}__max`)).toBe(want.max);
    }
    // The trend is in the data, so the slope is real: about 0.8 per second.
    expect(s.indicators.get('rf_power__slope')).toBeCloseTo(0.8, 1);
    // 5 sensors' stats × 2 sensors + duration.
    expect(s.indicators.size).toBe(2 * SENSOR_STATS.length + 1);
  });

  it('keeps full precision on large readings (16000 ± 0.01) where one-pass sums do not', () => {
    const n = 2000;
    const ts = timestamps(n, 3);
    const g = gaussian(rng(4));
    const xs = ts.map((t) => 16000 + 1e-6 * ((t - T0) / 1000) + 0.01 * g());
    const trace = new StepTrace();
    ts.forEach((t, i) => trace.add(t, { temp: xs[i] as number }));
    const s = trace.finish();
    const want = reference(ts, xs, T0);

    // The data is hard for the textbook one-pass formula: its variance is off by more than 1e-6 relative here.
    const sum = xs.reduce((a, x) => a + x, 0);
    const sumSq = xs.reduce((a, x) => a + x * x, 0);
    const onePassStd = Math.sqrt(Math.max(0, (sumSq - (sum * sum) / n) / (n - 1)));
    expect(Math.abs(onePassStd - want.std) / want.std).toBeGreaterThan(1e-6);

    expectClose(s.indicators.get('temp__mean'), want.mean, 1e-14);
    expectClose(s.indicators.get('temp__std'), want.std, 1e-9);
    expectClose(s.indicators.get('temp__slope'), want.slope, 1e-6);
    expect(s.indicators.get('temp__std')).toBeCloseTo(0.01, 3);
  });

  it('gives a one-sample step zero spread, slope and duration', () => {
    const trace = new StepTrace();
    trace.add(T0, { rf_power: 1500.25 });
    const s = trace.finish();
    expect(s).toMatchObject({ samples: 1, start: T0, end: T0, duration: 0 });
    expect(Object.fromEntries(s.indicators)).toEqual({
      rf_power__mean: 1500.25, rf_power__std: 0, rf_power__slope: 0, rf_power__min: 1500.25, rf_power__max: 1500.25, step__duration: 0,
    });
  });

  it('gives a constant sensor exactly zero std and slope', () => {
    const trace = new StepTrace();
    for (let i = 0; i < 50; i++) trace.add(T0 + i * 1000, { bias: -340.1, ramp: i * 0.5 });
    const s = trace.finish();
    expect(s.indicators.get('bias__mean')).toBe(-340.1);
    expect(s.indicators.get('bias__std')).toBe(0);
    expect(s.indicators.get('bias__slope')).toBe(0);
    expect(s.indicators.get('bias__min')).toBe(-340.1);
    expect(s.indicators.get('bias__max')).toBe(-340.1);
    // A clean ramp: 0.5 per snapshot, one snapshot a second.
    expectClose(s.indicators.get('ramp__slope'), 0.5, 1e-12);
    expect(s.duration).toBe(49);
  });

  it('computes a sensor missing from some snapshots over the snapshots that had it, on the step clock', () => {
    const ts = timestamps(10, 5);
    const trace = new StepTrace();
    const flow: number[] = [];
    const flowTs: number[] = [];
    ts.forEach((t, i) => {
      const values: Record<string, number> = { rf_power: 1500 + i };
      // gas_flow only from the 4th snapshot on, and not in the 7th.
      if (i >= 3 && i !== 6) {
        values.gas_flow = 85 + 2 * ((t - T0) / 1000) + (i % 2 ? 0.3 : -0.3);
        flow.push(values.gas_flow);
        flowTs.push(t);
      }
      trace.add(t, values);
    });
    const s = trace.finish();
    const want = reference(flowTs, flow, T0);
    expect(s.samples).toBe(10);
    expect(s.duration).toBe(((ts.at(-1) as number) - T0) / 1000);
    expectClose(s.indicators.get('gas_flow__mean'), want.mean, 1e-12);
    expectClose(s.indicators.get('gas_flow__std'), want.std, 1e-9);
    expectClose(s.indicators.get('gas_flow__slope'), want.slope, 1e-9);
    expect(s.indicators.get('gas_flow__min')).toBe(Math.min(...flow));
    expect(s.indicators.get('gas_flow__max')).toBe(Math.max(...flow));
  });

  it('gives a slope of 0 when every snapshot of a sensor has the same timestamp', () => {
    const trace = new StepTrace();
    trace.add(T0, { a: 1 });
    trace.add(T0, { a: 3 });
    const s = trace.finish();
    expect(s.indicators.get('a__slope')).toBe(0);
    expect(s.indicators.get('a__std')).toBeCloseTo(Math.SQRT2, 12);
  });
});

describe('indicatorVector', () => {
  const trace = new StepTrace();
  trace.add(T0, { rf_power: 10, gas_flow: 1 });
  trace.add(T0 + 2000, { rf_power: 14, gas_flow: 3 });
  const summary = trace.finish();

  it('returns the values in the order asked for', () => {
    const v = indicatorVector(summary.indicators, ['gas_flow__max', 'rf_power__mean', DURATION_INDICATOR, 'rf_power__slope']);
    expect(v).toEqual(Float64Array.from([3, 12, 2, 2]));
  });

  it('reports the first indicator the step lacks', () => {
    expect(indicatorVector(summary.indicators, ['rf_power__mean', 'temp_wall__mean', 'bias__std'])).toEqual({ missing: 'temp_wall__mean' });
  });
});

describe('indicator names', () => {
  it('lists sensor by sensor, stat by stat, then duration', () => {
    expect(indicatorNames(['rf_power', 'gas_flow'])).toEqual(['rf_power__mean', 'rf_power__std', 'gas_flow__mean', 'gas_flow__std', 'step__duration']);
    expect(DEFAULT_MODEL_STATS).toEqual(['mean', 'std']);
    expect(indicatorNames(['a'], SENSOR_STATS)).toEqual(['a__mean', 'a__std', 'a__slope', 'a__min', 'a__max', 'step__duration']);
  });

  it('parses every name back into its sensor and stat, including sensors with underscores', () => {
    const sensors = ['rf_power', 'he__flow', 'x_', 'step'];
    for (const sensor of sensors) for (const stat of SENSOR_STATS) expect(parseIndicator(indicatorName(sensor, stat))).toEqual({ sensor, stat });
    expect(parseIndicator(DURATION_INDICATOR)).toEqual({ sensor: 'step', stat: 'duration' });
    const names = indicatorNames(sensors, SENSOR_STATS);
    expect(names.map((n) => parseIndicator(n))).toHaveLength(sensors.length * SENSOR_STATS.length + 1);
    expect(names.map((n) => parseIndicator(n)).at(-1)).toEqual({ sensor: 'step', stat: 'duration' });
  });
});
