import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RecordingWriter, type RecordingEntry } from '@linewatch/recording';
import type { EquipmentState, ProcessContext } from '@linewatch/protocol';
import { WaferStepCollector, readWaferSteps, waferStepOf } from './wafer-steps.js';

const T0 = 1_764_400_000_000;
const RECIPE = 'ETCH-01';

/** Builds one station's stream: snapshots 1 s apart, state changes in between. */
class Stream {
  readonly entries: RecordingEntry[] = [];
  private ts = T0;
  private seq = 0;

  constructor(private readonly station = 'etch-01') {}

  snapshots(count: number, context: ProcessContext | undefined, value: (i: number) => number, extra: { label?: 0 | 1; fault?: string; labelAt?: number } = {}): this {
    for (let i = 0; i < count; i++) {
      const labelled = extra.label !== undefined && (extra.labelAt === undefined || extra.labelAt === i);
      this.entries.push({
        at: this.ts, line: 'fab1', station: this.station, kind: 'telemetry',
        msg: { ts: this.ts, seq: this.seq++, values: { rf_power: value(i), pressure: 0.1 }, ...(context ? { context } : {}) },
        ...(labelled ? { label: extra.label } : extra.label !== undefined ? { label: 0 as const } : {}),
        ...(labelled && extra.fault ? { fault: extra.fault } : {}),
      });
      this.ts += 1000;
    }
    return this;
  }

  state(state: EquipmentState): this {
    this.entries.push({ at: this.ts, line: 'fab1', station: this.station, kind: 'state', msg: { state, since: this.ts } });
    return this;
  }
}

const wafer = (w: string, step: string): ProcessContext => ({ recipe: RECIPE, step, lot: 'L01', wafer: w });
const IDLE: ProcessContext = { step: 'idle' };

/** Two wafers × two steps, idle between them, a PM (SCHEDULED_DOWN) between wafer 1 and wafer 2. */
function twoWafers(): Stream {
  return new Stream()
    .state('PRODUCTIVE')
    .snapshots(4, wafer('W1', 'main_etch'), (i) => 1500 + i, { label: 0 })
    .snapshots(3, wafer('W1', 'over_etch'), () => 900, { label: 1, fault: 'rf_drift', labelAt: 1 })
    .snapshots(2, IDLE, () => 0)
    .state('SCHEDULED_DOWN')
    .snapshots(2, undefined, () => 0)
    // A retained state repeated (a reconnect) is still the same PM.
    .state('SCHEDULED_DOWN')
    .state('PRODUCTIVE')
    .snapshots(2, IDLE, () => 0)
    .snapshots(5, wafer('W2', 'main_etch'), (i) => 1510 + 2 * i)
    .snapshots(3, wafer('W2', 'over_etch'), () => 905);
}

function collect(entries: readonly RecordingEntry[]): ReturnType<WaferStepCollector['finish']> {
  const collector = new WaferStepCollector();
  for (const e of entries) collector.add(e, 'run.jsonl.gz');
  return collector.finish();
}

describe('WaferStepCollector', () => {
  it('splits a stream into wafer steps, with the maintenance period each ran in', () => {
    const steps = collect(twoWafers().entries);
    expect(steps.map((s) => [s.wafer, s.context.step, s.period, s.summary.samples])).toEqual([
      ['W1', 'main_etch', 'pm-0', 4],
      ['W1', 'over_etch', 'pm-0', 3],
      ['W2', 'main_etch', 'pm-1', 5],
      ['W2', 'over_etch', 'pm-1', 3],
    ]);
    const [first, , third] = steps;
    expect(first).toMatchObject({ line: 'fab1', station: 'etch-01', lot: 'L01', context: { recipe: RECIPE, step: 'main_etch' }, file: 'run.jsonl.gz' });
    expect(first?.summary).toMatchObject({ start: T0, end: T0 + 3000, duration: 3 });
    expect(first?.summary.indicators.get('rf_power__mean')).toBe(1501.5);
    expect(first?.summary.indicators.get('rf_power__slope')).toBeCloseTo(1, 12);
    // W2's main etch starts after 4 + 3 + 2 + 2 + 2 snapshots.
    expect(third?.summary.start).toBe(T0 + 13_000);
    expect(third?.summary.indicators.get('rf_power__mean')).toBe(1514);
    expect(third?.summary.indicators.get('rf_power__slope')).toBeCloseTo(2, 12);
  });

  it('carries the labels and the fault name of each step', () => {
    const steps = collect(twoWafers().entries);
    expect(steps.map((s) => [s.label, s.fault])).toEqual([
      [0, undefined],
      [1, 'rf_drift'],
      [null, undefined],
      [null, undefined],
    ]);
  });

  it('keeps a label of 1 once any snapshot of the step had it', () => {
    const stream = new Stream().snapshots(2, wafer('W1', 'main_etch'), () => 1, { label: 1, fault: 'arc', labelAt: 0 });
    // After the faulty snapshot the step goes on with normal labels.
    stream.snapshots(3, wafer('W1', 'main_etch'), () => 1, { label: 0 });
    const [step] = collect(stream.entries);
    expect(step).toMatchObject({ label: 1, fault: 'arc' });
    expect(step?.summary.samples).toBe(5);
  });

  it('makes two steps of a step split by another wafer', () => {
    const stream = new Stream()
      .snapshots(3, wafer('W1', 'main_etch'), () => 1)
      .snapshots(2, wafer('W2', 'main_etch'), () => 2)
      .snapshots(4, wafer('W1', 'main_etch'), () => 3);
    expect(collect(stream.entries).map((s) => [s.wafer, s.summary.samples, s.summary.indicators.get('rf_power__mean')])).toEqual([
      ['W1', 3, 1],
      ['W2', 2, 2],
      ['W1', 4, 3],
    ]);
  });

  it('keeps each station\'s steps and periods apart when their streams interleave', () => {
    const a = twoWafers();
    const b = new Stream('etch-02').snapshots(6, wafer('X1', 'main_etch'), () => 7).snapshots(1, IDLE, () => 0).snapshots(2, wafer('X2', 'main_etch'), () => 8);
    const merged = [...a.entries, ...b.entries].sort((x, y) => x.at - y.at);
    const steps = collect(merged);
    expect(steps.filter((s) => s.station === 'etch-01').map((s) => [s.wafer, s.context.step, s.period, s.summary.samples])).toEqual([
      ['W1', 'main_etch', 'pm-0', 4],
      ['W1', 'over_etch', 'pm-0', 3],
      ['W2', 'main_etch', 'pm-1', 5],
      ['W2', 'over_etch', 'pm-1', 3],
    ]);
    // etch-02 had no PM: its wafers stay in pm-0 although etch-01 went down.
    expect(steps.filter((s) => s.station === 'etch-02').map((s) => [s.wafer, s.period, s.summary.samples])).toEqual([
      ['X1', 'pm-0', 6],
      ['X2', 'pm-0', 2],
    ]);
  });

  it('counts each SCHEDULED_DOWN episode once, and only those', () => {
    const stream = new Stream()
      .state('UNSCHEDULED_DOWN')
      .state('PRODUCTIVE')
      .snapshots(3, wafer('W1', 'main_etch'), () => 1)
      .state('SCHEDULED_DOWN')
      .state('ENGINEERING')
      .state('SCHEDULED_DOWN')
      .state('PRODUCTIVE')
      .snapshots(3, wafer('W2', 'main_etch'), () => 1);
    // Each entry into SCHEDULED_DOWN starts a period (as documented): down, engineering, down again is two.
    expect(collect(stream.entries).map((s) => s.period)).toEqual(['pm-0', 'pm-2']);
  });
});

describe('waferStepOf', () => {
  it('gives no step to snapshots without a wafer or with an idle or missing step', () => {
    expect(waferStepOf(undefined)).toBeUndefined();
    expect(waferStepOf({ recipe: RECIPE, step: 'main_etch' })).toBeUndefined();
    expect(waferStepOf({ wafer: 'W1', step: 'idle' })).toBeUndefined();
    expect(waferStepOf({ wafer: 'W1', recipe: RECIPE })).toBeUndefined();
    expect(waferStepOf({ wafer: 'W1', step: 'main_etch' })).toMatchObject({ wafer: 'W1', context: { step: 'main_etch' } });
    expect(waferStepOf({ wafer: 'W1', recipe: 'A', step: 's' })?.key).not.toBe(waferStepOf({ wafer: 'W1', recipe: 'B', step: 's' })?.key);
  });
});

describe('readWaferSteps', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'linewatch-wafer-steps-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function record(path: string, entries: readonly RecordingEntry[]): Promise<void> {
    const w = await RecordingWriter.create(path, { source: { kind: 'simulator', detail: 'wafer-steps test' } });
    for (const e of entries) {
      w.write(e);
      if (w.needsDrain) await w.drain();
    }
    await w.close();
  }

  it('reads recordings in order: no step spans two files, the PM count carries over', async () => {
    const all = twoWafers().entries;
    // Cut inside W1's main etch (after 2 of its 4 snapshots), and after the PM.
    const cut = all.findIndex((e) => e.kind === 'state' && e.msg.state === 'PRODUCTIVE' && e !== all[0]);
    const first = join(dir, 'a.jsonl.gz');
    const second = join(dir, 'b.jsonl.gz');
    const third = join(dir, 'c.jsonl.gz');
    await record(first, all.slice(0, 3));
    await record(second, all.slice(3, cut));
    await record(third, all.slice(cut));
    const steps = await readWaferSteps([first, second, third]);
    expect(steps.map((s) => [s.wafer, s.context.step, s.period, s.summary.samples, s.file])).toEqual([
      ['W1', 'main_etch', 'pm-0', 2, first],
      ['W1', 'main_etch', 'pm-0', 2, second],
      ['W1', 'over_etch', 'pm-0', 3, second],
      ['W2', 'main_etch', 'pm-1', 5, third],
      ['W2', 'over_etch', 'pm-1', 3, third],
    ]);
  });
});
