import type { WriteBatch, WriteResult } from '@linewatch/store';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FlakyStore, makeWriter, reading, stateChange } from './store-writer.test-support.js';

describe('StoreWriter and equipment-state changes', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('writes state changes in the next batch, with reason and replay as they came', async () => {
    const store = new FlakyStore(0);
    const { writer, metrics } = makeWriter(store);
    writer.addReading(reading(1));
    writer.addState(stateChange(5, { state: 'UNSCHEDULED_DOWN', reason: 'leak', replay: true }));
    await vi.advanceTimersByTimeAsync(250);
    expect(store.written).toHaveLength(1);
    expect(store.written[0]?.states).toEqual([{ line: 'l', station: 's', ts: 5, state: 'UNSCHEDULED_DOWN', reason: 'leak', replay: true }]);
    expect(store.readings).toEqual([1]);
    expect(metrics.stats).toMatchObject({ statesWritten: 1, statesDropped: 0, dropped: 0 });
    expect(await metrics.registry.getSingleMetricAsString('linewatch_equipment_states_written_total')).toContain('linewatch_equipment_states_written_total 1');
  });

  it('keeps state changes through a failing store and writes each once, in order, when it is back', async () => {
    const store = new FlakyStore(4);
    const { writer, metrics } = makeWriter(store);
    for (let i = 0; i < 12; i++) writer.addState(stateChange(i));
    for (let i = 0; i < 12; i++) writer.addReading(reading(i));
    await vi.advanceTimersByTimeAsync(1400);
    // Four failed attempts: nothing written, nothing left the buffer.
    expect(store.attempts).toBe(4);
    expect(store.written).toEqual([]);
    expect(writer.size).toBe(24);
    await vi.advanceTimersByTimeAsync(5000);
    expect(store.states).toEqual(Array.from({ length: 12 }, (_, i) => i));
    // A full batch is split in proportion: state changes ride along with the readings, at most batchMax points a write.
    expect(store.written.map((b) => b.readings.length + (b.states?.length ?? 0))).toEqual([10, 10, 4]);
    expect(store.written[0]?.states).toHaveLength(5);
    expect(metrics.stats).toMatchObject({ writeErrors: 4, statesWritten: 12, statesDropped: 0, readingsWritten: 12, dropped: 0 });
    expect(writer.size).toBe(0);
  });

  it('leaves `states` out of a batch that has none', async () => {
    const store = new FlakyStore(0);
    const { writer } = makeWriter(store);
    writer.addReading(reading(1));
    await vi.advanceTimersByTimeAsync(250);
    expect(store.written[0]).not.toHaveProperty('states');
  });

  it('counts state changes the store refused for good (rejected.states) as dropped, not written', async () => {
    const store = {
      async write(batch: WriteBatch): Promise<WriteResult> {
        const old = (batch.states ?? []).filter((p) => p.ts < 3).length;
        return { rejected: { readings: 0, scores: 0, anomalies: 0, wafers: 0, states: old, reason: 'older than the rollup retention policy' } };
      },
    };
    const { writer, metrics } = makeWriter(store, { flushMs: 10 });
    for (let i = 0; i < 6; i++) writer.addState(stateChange(i));
    await vi.advanceTimersByTimeAsync(20);
    expect(metrics.stats).toMatchObject({ statesWritten: 3, statesDropped: 3, dropped: 3 });
    expect(await metrics.registry.getSingleMetricAsString('linewatch_points_dropped_total')).toContain('kind="state"} 3');
    await writer.stop();
  });

  it('past the hard limit drops state changes after scores and before readings', async () => {
    const { writer, metrics } = makeWriter(new FlakyStore(Number.POSITIVE_INFINITY), { bufferMax: 3 });
    for (let i = 0; i < 4; i++) writer.addReading(reading(i));
    for (let i = 0; i < 3; i++) writer.addState(stateChange(i));
    expect(writer.size).toBe(6);
    expect(metrics.stats).toMatchObject({ readingsDropped: 0, statesDropped: 1, dropped: 1 });
  });

  it('counts state changes as dropped when the store stays down through stop()', async () => {
    const { writer, metrics } = makeWriter(new FlakyStore(Number.POSITIVE_INFINITY), { stopTimeoutMs: 500 });
    for (let i = 0; i < 3; i++) writer.addState(stateChange(i));
    const stopped = writer.stop();
    await vi.advanceTimersByTimeAsync(2000);
    await stopped;
    expect(metrics.stats).toMatchObject({ statesWritten: 0, statesDropped: 3, dropped: 3 });
  });
});
