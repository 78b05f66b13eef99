import { parseTopic } from '@linewatch/protocol';
import type { RecordingEntry } from '@linewatch/recording';
import type { LineSimulator, SimMessage } from '../simulator.js';
import { checkPayload } from './check-message.js';
import { DataClock, ownTime, toEntry } from './entries.js';
import { InvalidTally } from './invalid-tally.js';

/** What a recorder writes to: RecordingWriter, or an array in tests. */
export interface EntrySink {
  write(entry: RecordingEntry): void;
  readonly needsDrain: boolean;
  drain(): Promise<void>;
}

export interface SimulationRecordingOptions {
  simulator: LineSimulator;
  /** Simulated run length; ticks = duration × rate, as the simulator runner counts them. */
  durationMs: number;
  sink: EntrySink;
  /** Ends the run early (Ctrl-C); what was simulated so far is kept. */
  signal?: AbortSignal | undefined;
}

export interface SimulationRecordingStats {
  ticks: number;
  entries: number;
  /** Messages the simulator made that fail the protocol schemas: a simulator bug, counted and never written. */
  invalid: InvalidTally;
  /** True when the signal ended the run before its duration. */
  aborted: boolean;
}

/** Ticks between turns of the event loop when the writer never asks to wait, so Ctrl-C is still heard. */
const YIELD_EVERY_TICKS = 1000;

/**
 * Records a simulated line without a broker: the simulator's messages (meta, state, telemetry, truth) become
 * entries as fast as the CPU and gzip allow, in the order a subscriber would receive them. Deterministic: the
 * same simulator options give the same entries.
 */
export async function recordSimulation({ simulator, durationMs, sink, signal }: SimulationRecordingOptions): Promise<SimulationRecordingStats> {
  const clock = new DataClock();
  const stats: SimulationRecordingStats = { ticks: 0, entries: 0, invalid: new InvalidTally(), aborted: false };
  const record = (m: SimMessage) => {
    const topic = parseTopic(m.topic);
    const checked = topic ? checkPayload(topic, m.payload) : { status: 'invalid' as const, reason: 'not a station topic' };
    if (checked.status !== 'valid') {
      stats.invalid.add(m.topic, checked.status === 'invalid' ? checked.reason : 'empty payload');
      return;
    }
    const { message } = checked;
    // Before a line's first snapshot the simulator's own clock (its start) is where a message sits.
    const at = message.kind === 'telemetry' ? clock.telemetry(message.line, message.msg.ts) : (clock.latestOn(message.line) ?? ownTime(message) ?? simulator.now);
    sink.write(toEntry(message, at));
    stats.entries++;
  };
  for (const m of simulator.initialMessages()) record(m);
  const ticks = Math.round((durationMs * simulator.rateHz) / 1000);
  while (stats.ticks < ticks) {
    if (signal?.aborted) {
      stats.aborted = true;
      break;
    }
    for (const m of simulator.tick()) record(m);
    stats.ticks++;
    if (sink.needsDrain) await sink.drain();
    else if (stats.ticks % YIELD_EVERY_TICKS === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  return stats;
}
