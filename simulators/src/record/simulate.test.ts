import type { RecordingEntry } from '@linewatch/recording';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LINE } from '../line.js';
import type { Scenario } from '../scenario.js';
import { LineSimulator, type LineSimulatorOptions } from '../simulator.js';
import { recordSimulation, type EntrySink } from './simulate.js';

const START = 1_764_400_000_000;
const scenario: Scenario = { faults: [{ station: 'etch-01', type: 'step', sensors: ['chamber_pressure'], at: 2, duration: 3 }, { station: 'cmp-01', type: 'tool_down', at: 4, duration: 2 }] };
const options: LineSimulatorOptions = { line: DEFAULT_LINE, scenario, seed: 5, rateHz: 10, startTs: START };

class ArraySink implements EntrySink {
  readonly entries: RecordingEntry[] = [];
  needsDrain = false;
  write(entry: RecordingEntry): void {
    this.entries.push(entry);
  }
  async drain(): Promise<void> {}
}

async function record(durationMs = 10_000): Promise<ArraySink> {
  const sink = new ArraySink();
  await recordSimulation({ simulator: new LineSimulator(options), durationMs, sink });
  return sink;
}

describe('recordSimulation', () => {
  it('writes every simulator message, in order, as an entry', async () => {
    const { entries } = await record();
    const reference = new LineSimulator(options);
    const messages = [...reference.initialMessages()];
    for (let i = 0; i < 100; i++) messages.push(...reference.tick());
    expect(entries.map((e) => `linewatch/v1/${e.line}/${e.station}/${e.kind}`)).toEqual(messages.map((m) => m.topic));
    expect(entries.map((e) => e.msg)).toEqual(messages.map((m) => m.payload));
    expect(entries.filter((e) => e.kind === 'truth')).toHaveLength(4);
  });

  it('places entries on the data clock: snapshots at ts, the rest at the latest ts, or their own time at the start', async () => {
    const { entries } = await record();
    let latest: number | undefined;
    for (const e of entries) {
      if (e.kind === 'telemetry') {
        expect(e.at).toBe(e.msg.ts);
        latest = Math.max(latest ?? 0, e.msg.ts);
      } else {
        expect(e.at).toBe(latest ?? START);
      }
    }
  });

  it('is deterministic', async () => {
    expect((await record(3_000)).entries).toEqual((await record(3_000)).entries);
  });

  it('waits for the writer when it asks, and stops early on abort', async () => {
    const sink = new ArraySink();
    let drains = 0;
    sink.drain = async () => {
      drains++;
      sink.needsDrain = false;
    };
    const abort = new AbortController();
    const write = sink.write.bind(sink);
    sink.write = (e) => {
      write(e);
      if (sink.entries.length % 100 === 0) sink.needsDrain = true;
      if (sink.entries.length === 1_000) abort.abort();
    };
    const stats = await recordSimulation({ simulator: new LineSimulator(options), durationMs: 600_000, sink, signal: abort.signal });
    expect(drains).toBeGreaterThanOrEqual(9);
    expect(stats.aborted).toBe(true);
    expect(stats.ticks).toBeLessThan(200);
  });
});
