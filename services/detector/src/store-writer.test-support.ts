import type { WaferVerdict } from '@linewatch/protocol';
import type { ReadingPoint, StatePoint, Store, WriteBatch } from '@linewatch/store';
import pino from 'pino';
import { DetectorMetrics } from './metrics.js';
import { StoreWriter, type StoreWriterOptions } from './store-writer.js';

/** A store that fails its first `failures` writes: a fault the real backends cannot be made to produce on cue. */
export class FlakyStore implements Pick<Store, 'write'> {
  readonly written: WriteBatch[] = [];
  attempts = 0;
  attemptTimes: number[] = [];
  constructor(private failures: number) {}
  async write(batch: WriteBatch): Promise<void> {
    this.attempts++;
    this.attemptTimes.push(Date.now());
    if (this.failures > 0) {
      this.failures--;
      throw new Error('store unavailable');
    }
    this.written.push(structuredClone(batch));
  }
  get readings(): number[] {
    return this.written.flatMap((b) => b.readings.map((r) => r.seq));
  }
  get wafers(): string[] {
    return this.written.flatMap((b) => (b.wafers ?? []).map((v) => v.wafer));
  }
  get states(): number[] {
    return this.written.flatMap((b) => (b.states ?? []).map((p) => p.ts));
  }
}

export const reading = (seq: number): ReadingPoint => ({ line: 'l', station: 's', ts: 1000 + seq, seq, values: { a: seq } });
export const verdict = (n: number, patch: Partial<WaferVerdict> = {}): WaferVerdict => ({
  id: `l/s/W${n}/main_etch/${n * 1000}`, line: 'l', station: 's', wafer: `W${n}`, step: 'main_etch', start: n * 1000, end: n * 1000 + 900,
  samples: 9, verdict: 'ok', score: 0.2, threshold: 1, t2: 1, spe: 0.1, modelVersion: 'w@1', baseline: 'b1', contributors: [], ...patch,
});
/** A state change at ts `n`. */
export const stateChange = (n: number, patch: Partial<StatePoint> = {}): StatePoint => ({
  line: 'l', station: 's', ts: n, state: n % 2 === 0 ? 'PRODUCTIVE' : 'STANDBY', ...patch,
});

export function makeWriter(store: Pick<Store, 'write'>, options: Partial<StoreWriterOptions> = {}) {
  const metrics = new DetectorMetrics();
  const writer = new StoreWriter({
    store: store as unknown as Store,
    metrics,
    logger: pino({ level: 'silent' }),
    options: { batchMax: 10, flushMs: 250, bufferMax: 1000, retryBaseMs: 100, retryMaxMs: 1000, ...options },
  });
  // Without a journal, start() opens nothing and runs the loop at once; a test with a journal awaits start() itself
  // (a second call is a no-op that returns the same promise).
  void writer.start();
  return { writer, metrics };
}
