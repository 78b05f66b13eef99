import { StateMessageSchema, TruthSchema, type FaultType, type Telemetry, type Truth } from '@linewatch/protocol';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LINE } from './line.js';
import { FAULT_DEFAULT_MAGNITUDE, type FaultSpec, type Scenario } from './scenario.js';
import { LineSimulator, type SimMessage } from './simulator.js';
import { toolModel } from './tools/index.js';

const START = 1_764_400_000_000;
const RATE = 10;
const AT = 60;
const DURATION = 30;
const TICKS = 1200;
const startTs = START + AT * 1000;
const endTs = START + (AT + DURATION) * 1000;
const sigmaOf = (name: string) => toolModel('etch').sensors.find((s) => s.spec.name === name)!.sigma;

interface Run {
  telemetry: Telemetry[];
  truth: Truth[];
  states: { ts: number; state: string }[];
}

function runEtch(scenario: Scenario, ticks = TICKS): Run {
  const sim = new LineSimulator({ line: DEFAULT_LINE, scenario, seed: 11, rateHz: RATE, startTs: START });
  const out: Run = { telemetry: [], truth: [], states: [] };
  for (let i = 0; i < ticks; i++) {
    for (const m of sim.tick() as SimMessage[]) {
      if (!m.topic.includes('/etch-01/')) continue;
      if (m.topic.endsWith('/telemetry')) out.telemetry.push(m.payload as Telemetry);
      if (m.topic.endsWith('/truth')) out.truth.push(TruthSchema.parse(m.payload));
      if (m.topic.endsWith('/state')) out.states.push({ ts: sim.now, state: StateMessageSchema.parse(m.payload).state });
    }
  }
  return out;
}

const clean = runEtch({ faults: [] });
const fault = (type: FaultType, extra: Partial<FaultSpec> = {}): Scenario => ({
  faults: [{ station: 'etch-01', type, sensors: ['chamber_pressure'], at: AT, duration: DURATION, ...extra }],
});
const inWindow = (t: Telemetry) => t.ts >= startTs && t.ts < endTs;

/** Faulted minus clean reading of one sensor, per tick, inside and outside the window. */
function deltas(run: Run, sensor: string) {
  const inside: number[] = [];
  const outside: number[] = [];
  run.telemetry.forEach((t, i) => {
    const d = (t.values[sensor] ?? NaN) - clean.telemetry[i]!.values[sensor]!;
    (inWindow(t) ? inside : outside).push(d);
  });
  return { inside, outside };
}

function expectTruthWindow(run: Run, type: FaultType) {
  expect(run.truth).toHaveLength(2);
  const [start, end] = run.truth as [Truth, Truth];
  expect(start).toMatchObject({ id: `etch-01:${type}:${startTs}`, line: 'fab1', station: 'etch-01', fault: type, start: startTs, end: null });
  expect(end).toMatchObject({ id: start.id, start: startTs, end: endTs });
}

function expectOnlySensorChanged(run: Run, sensor: string) {
  run.telemetry.forEach((t, i) => {
    const { [sensor]: _ignored, ...others } = t.values;
    const { [sensor]: _ignored2, ...cleanOthers } = clean.telemetry[i]!.values;
    expect(others).toEqual(cleanOthers);
  });
}

describe('fault injection on etch-01 chamber_pressure', () => {
  it('step: offsets by magnitude x sigma for exactly the window, truth start and end', () => {
    const run = runEtch(fault('step', { magnitude: 6 }));
    expectTruthWindow(run, 'step');
    const { inside, outside } = deltas(run, 'chamber_pressure');
    expect(inside).toHaveLength(DURATION * RATE);
    for (const d of inside) expect(d).toBeCloseTo(6 * sigmaOf('chamber_pressure'), 2);
    expect(outside.every((d) => d === 0)).toBe(true);
    expectOnlySensorChanged(run, 'chamber_pressure');
  });

  it('drift: ramps linearly from 0 to magnitude x sigma', () => {
    const run = runEtch(fault('drift', { magnitude: 10 }));
    expectTruthWindow(run, 'drift');
    const { inside } = deltas(run, 'chamber_pressure');
    const size = 10 * sigmaOf('chamber_pressure');
    expect(inside[0]).toBeCloseTo(0, 2);
    expect(inside[inside.length / 2]).toBeCloseTo(size / 2, 1);
    expect(inside.at(-1)).toBeCloseTo(size, 1);
  });

  it('spike: a few large excursions, the first at the start', () => {
    const run = runEtch(fault('spike'));
    expectTruthWindow(run, 'spike');
    const { inside, outside } = deltas(run, 'chamber_pressure');
    const spikes = inside.filter((d) => Math.abs(d) > 1e-9);
    expect(Math.abs(inside[0]!)).toBeCloseTo(FAULT_DEFAULT_MAGNITUDE.spike * sigmaOf('chamber_pressure'), 2);
    expect(spikes.length).toBeGreaterThanOrEqual(3);
    expect(spikes.length).toBeLessThan(inside.length / 4);
    expect(outside.every((d) => d === 0)).toBe(true);
  });

  it('stuck: the value freezes for the window, then follows the process again', () => {
    const run = runEtch(fault('stuck'));
    expectTruthWindow(run, 'stuck');
    const window = run.telemetry.filter(inWindow).map((t) => t.values.chamber_pressure);
    expect(new Set(window).size).toBe(1);
    const after = run.telemetry.filter((t) => t.ts >= endTs).map((t) => t.values.chamber_pressure);
    expect(new Set(after).size).toBeGreaterThan(50);
  });

  it('noise_burst: multiplies the noise by magnitude', () => {
    const run = runEtch(fault('noise_burst', { magnitude: 5 }));
    const { inside } = deltas(run, 'chamber_pressure');
    const std = Math.sqrt(inside.reduce((s, d) => s + d * d, 0) / inside.length);
    const expected = sigmaOf('chamber_pressure') * Math.sqrt(24);
    expect(std).toBeGreaterThan(expected * 0.8);
    expect(std).toBeLessThan(expected * 1.2);
  });

  it('broken_correlation: dc_bias stops following RF power disturbances and wanders on its own', () => {
    const run = runEtch(fault('broken_correlation', { sensors: ['dc_bias'], magnitude: 6 }));
    expectTruthWindow(run, 'broken_correlation');
    const { inside, outside } = deltas(run, 'dc_bias');
    const rms = Math.sqrt(inside.reduce((s, d) => s + d * d, 0) / inside.length);
    expect(rms).toBeGreaterThan(2 * sigmaOf('dc_bias'));
    expect(outside.every((d) => d === 0)).toBe(true);
    expectOnlySensorChanged(run, 'dc_bias');
  });

  it('dropout: the sensor is missing from values for the window', () => {
    const run = runEtch(fault('dropout'));
    expectTruthWindow(run, 'dropout');
    for (const t of run.telemetry) expect('chamber_pressure' in t.values).toBe(!inWindow(t));
  });

  it('tool_down: UNSCHEDULED_DOWN and no telemetry for the window, then STANDBY and seq continues', () => {
    const run = runEtch({ faults: [{ station: 'etch-01', type: 'tool_down', at: AT, duration: DURATION }] });
    expectTruthWindow(run, 'tool_down');
    expect(run.truth[0]!.sensors).toEqual(toolModel('etch').sensors.map((s) => s.spec.name));
    expect(run.states).toContainEqual({ ts: startTs, state: 'UNSCHEDULED_DOWN' });
    expect(run.states).toContainEqual({ ts: endTs, state: 'STANDBY' });
    expect(run.telemetry.filter(inWindow)).toHaveLength(0);
    expect(run.telemetry.length).toBe(TICKS - DURATION * RATE);
    expect(run.telemetry.map((t) => t.seq)).toEqual(run.telemetry.map((_, i) => i));
  });

  it('without sensors named, picks one deterministically', () => {
    const scenario: Scenario = { faults: [{ station: 'etch-01', type: 'step', at: AT, duration: DURATION }] };
    const a = runEtch(scenario, 700);
    expect(a.truth[0]!.sensors).toHaveLength(1);
    expect(a.truth[0]!.sensors).toEqual(runEtch(scenario, 700).truth[0]!.sensors);
  });

  it('repeatEvery: the schedule loops with fresh truth ids', () => {
    const run = runEtch({ repeatEvery: 50, faults: [{ station: 'etch-01', type: 'step', at: 10, duration: 20 }] }, 1100);
    expect(run.truth.map((t) => [t.start - START, t.end === null ? null : t.end - START])).toEqual([
      [10_000, null],
      [10_000, 30_000],
      [60_000, null],
      [60_000, 80_000],
      [110_000, null],
    ]);
    expect(new Set(run.truth.map((t) => t.id)).size).toBe(3);
  });
});
