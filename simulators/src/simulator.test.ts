import { StateMessageSchema, StationMetaSchema, TelemetrySchema, parseTopic, type Telemetry } from '@linewatch/protocol';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LINE } from './line.js';
import { DEFAULT_SCENARIO } from './scenario.js';
import { LineSimulator, type SimMessage } from './simulator.js';

const START = 1_764_400_000_000;

function run(seed: number, ticks: number, rateHz = 10, scenario = DEFAULT_SCENARIO): SimMessage[] {
  const sim = new LineSimulator({ line: DEFAULT_LINE, scenario, seed, rateHz, startTs: START });
  const out = sim.initialMessages();
  for (let i = 0; i < ticks; i++) out.push(...sim.tick());
  return out;
}

describe('LineSimulator', () => {
  it('is deterministic: the same seed gives byte-identical messages, another seed differs', () => {
    const a = JSON.stringify(run(7, 2000));
    const b = JSON.stringify(run(7, 2000));
    const c = JSON.stringify(run(8, 2000));
    expect(a.length).toBeGreaterThan(100_000);
    expect(a).toBe(b);
    expect(c).not.toBe(a);
  });

  it('publishes valid telemetry with per-station seq from 0 and simulated timestamps', () => {
    const rateHz = 4;
    const messages = run(1, 1200, rateHz);
    const seqs = new Map<string, number[]>();
    for (const m of messages) {
      const topic = parseTopic(m.topic);
      expect(topic, m.topic).toBeDefined();
      expect(topic!.line).toBe('fab1');
      if (topic!.kind !== 'telemetry') continue;
      const t: Telemetry = TelemetrySchema.parse(m.payload);
      expect(m.qos).toBe(1);
      expect(m.retain).toBe(false);
      expect((t.ts - START) % (1000 / rateHz)).toBe(0);
      seqs.set(topic!.station, [...(seqs.get(topic!.station) ?? []), t.seq]);
    }
    expect([...seqs.keys()].sort()).toEqual(DEFAULT_LINE.stations.map((s) => s.id).sort());
    for (const list of seqs.values()) expect(list).toEqual(list.map((_, i) => i));
  });

  it('ticks advance simulated time by one period', () => {
    const sim = new LineSimulator({ line: DEFAULT_LINE, scenario: { faults: [] }, seed: 1, rateHz: 3, startTs: START });
    expect(sim.now).toBe(START);
    const first = sim.tick().find((m) => m.topic.endsWith('/telemetry'))!.payload as Telemetry;
    expect(first.ts).toBe(START + 333);
    for (let i = 0; i < 2; i++) sim.tick();
    expect(sim.now).toBe(START + 1000);
  });

  it('starts with retained meta and state for every station', () => {
    const sim = new LineSimulator({ line: DEFAULT_LINE, scenario: { faults: [] }, seed: 1, rateHz: 10, startTs: START });
    const initial = sim.initialMessages();
    expect(initial).toHaveLength(DEFAULT_LINE.stations.length * 2);
    for (const m of initial) {
      expect(m.retain).toBe(true);
      const kind = parseTopic(m.topic)!.kind;
      if (kind === 'meta') {
        const meta = StationMetaSchema.parse(m.payload);
        const def = DEFAULT_LINE.stations.find((s) => s.id === meta.station)!;
        expect(meta).toMatchObject({ type: def.type, order: def.order, name: def.name });
      } else {
        expect(kind).toBe('state');
        expect(StateMessageSchema.parse(m.payload)).toEqual({ state: 'STANDBY', since: START });
      }
    }
  });

  it('runs wafer cycles: PRODUCTIVE while processing with full context, STANDBY between wafers', () => {
    const messages = run(3, 4000, 1, { faults: [] }).filter((m) => m.topic.includes('/etch-01/'));
    const states = messages.filter((m) => m.topic.endsWith('/state')).map((m) => StateMessageSchema.parse(m.payload).state);
    expect(states.slice(0, 5)).toEqual(['STANDBY', 'PRODUCTIVE', 'STANDBY', 'PRODUCTIVE', 'STANDBY']);
    const contexts = messages.filter((m) => m.topic.endsWith('/telemetry')).map((m) => (m.payload as Telemetry).context!);
    const recipes = new Set(contexts.map((c) => c.recipe).filter(Boolean));
    expect([...recipes].sort()).toEqual(['ETCH-AL-01', 'ETCH-AL-02']);
    expect(new Set(contexts.map((c) => c.step))).toEqual(new Set(['idle', 'pump_down', 'gas_stabilize', 'main_etch', 'over_etch', 'purge']));
    const wafers = [...new Set(contexts.map((c) => c.wafer).filter(Boolean))];
    expect(wafers.slice(0, 2)).toEqual(['L0001-01', 'L0001-02']);
    expect(wafers.indexOf('L0002-01')).toBe(wafers.indexOf('L0001-25') + 1);
    for (const c of contexts) if (c.wafer) expect(c.wafer.startsWith(c.lot!)).toBe(true);
  });

  it('keeps stations independent: a fault on one station does not change another', () => {
    const clean = run(5, 1500, 10, { faults: [] });
    const faulted = run(5, 1500, 10, { faults: [{ station: 'etch-01', type: 'noise_burst', at: 10, duration: 100 }] });
    const of = (list: SimMessage[], station: string) => JSON.stringify(list.filter((m) => m.topic.includes(`/${station}/`)));
    expect(of(faulted, 'cmp-01')).toBe(of(clean, 'cmp-01'));
    expect(of(faulted, 'etch-01')).not.toBe(of(clean, 'etch-01'));
  });

  it('rejects scenarios that name unknown stations or sensors', () => {
    const make = (station: string, sensors?: string[]) => () =>
      new LineSimulator({ line: DEFAULT_LINE, scenario: { faults: [{ station, type: 'step', at: 1, duration: 1, ...(sensors ? { sensors } : {}) }] }, seed: 1, rateHz: 1, startTs: 0 });
    expect(make('etch-99')).toThrow(/unknown station 'etch-99'/);
    expect(make('etch-01', ['rf_power_typo'])).toThrow(/unknown sensor 'rf_power_typo'/);
    expect(() => new LineSimulator({ line: DEFAULT_LINE, scenario: { faults: [] }, seed: 1, rateHz: 0, startTs: 0 })).toThrow(/rateHz/);
  });
});
