import type { WriteBatch } from '@linewatch/store';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { StoreWriter } from './store-writer.js';
import { FlakyStore, makeWriter, reading, verdict } from './store-writer.test-support.js';

describe('StoreWriter', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('writes a partial batch after flushMs', async () => {
    const store = new FlakyStore(0);
    const { writer } = makeWriter(store);
    writer.addReading(reading(1));
    await vi.advanceTimersByTimeAsync(249);
    expect(store.attempts).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(store.readings).toEqual([1]);
  });

  it('writes at once when a batch is full, in batches of at most batchMax', async () => {
    const store = new FlakyStore(0);
    const { writer } = makeWriter(store);
    for (let i = 0; i < 25; i++) writer.addReading(reading(i));
    await vi.advanceTimersByTimeAsync(0);
    expect(store.written[0]!.readings).toHaveLength(10);
    await vi.advanceTimersByTimeAsync(250);
    expect(store.written.map((b) => b.readings.length)).toEqual([10, 10, 5]);
  });

  it('retries a failing store with capped exponential backoff and loses nothing, in order', async () => {
    const store = new FlakyStore(6);
    const { writer, metrics } = makeWriter(store);
    const start = Date.now();
    for (let i = 0; i < 35; i++) writer.addReading(reading(i));
    writer.addScore({ line: 'l', station: 's', ts: 1, seq: 1, score: 2, threshold: 1, t2: 1, spe: 1, anomalous: true, health: 'WARN', modelVersion: 'v' });
    await vi.advanceTimersByTimeAsync(20_000);
    // Attempts at 0, then +100, +200, +400, +800, +1000 (cap), +1000 (cap) — the seventh succeeds.
    const gaps = store.attemptTimes.slice(1, 7).map((t, i) => t - (store.attemptTimes[i] ?? start));
    expect(gaps).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(store.readings).toEqual(Array.from({ length: 35 }, (_, i) => i));
    expect(store.written.flatMap((b) => b.scores)).toHaveLength(1);
    expect(metrics.stats).toMatchObject({ writeErrors: 6, readingsAccepted: 35, readingsWritten: 35, scoresWritten: 1, dropped: 0, readingsBuffered: 0 });
    expect(writer.storage).toMatchObject({ state: 'ok', failing: false });
  });

  it('holds ingest while full and lets it go once the store catches up', async () => {
    const store = new FlakyStore(3);
    const { writer } = makeWriter(store, { bufferMax: 20 });
    for (let i = 0; i < 20; i++) writer.addReading(reading(i));
    expect(writer.full).toBe(true);
    let released = false;
    void writer.waitForRoom().then(() => (released = true));
    await vi.advanceTimersByTimeAsync(250);
    expect(released).toBe(false);
    await vi.advanceTimersByTimeAsync(5000);
    expect(released).toBe(true);
    expect(store.readings).toHaveLength(20);
  });

  it('counts drops past the hard limit (twice bufferMax), newest first, scores before readings', async () => {
    const store = new FlakyStore(Number.POSITIVE_INFINITY);
    const { writer, metrics } = makeWriter(store, { bufferMax: 5 });
    for (let i = 0; i < 12; i++) writer.addReading(reading(i));
    expect(metrics.stats.dropped).toBe(2);
    expect(metrics.stats.readingsDropped).toBe(2);
    expect(writer.size).toBe(10);
    expect(await metrics.registry.getSingleMetricAsString('linewatch_points_dropped_total')).toContain('kind="reading"} 2');
  });

  it('flushes everything on stop()', async () => {
    const store = new FlakyStore(2);
    const { writer, metrics } = makeWriter(store);
    for (let i = 0; i < 23; i++) writer.addReading(reading(i));
    const stopped = writer.stop();
    await vi.advanceTimersByTimeAsync(5000);
    await stopped;
    expect(store.readings).toEqual(Array.from({ length: 23 }, (_, i) => i));
    expect(metrics.stats.readingsAccepted).toBe(metrics.stats.readingsWritten + metrics.stats.readingsDropped);
  });

  it('counts what is left as dropped when the store stays down through stop()', async () => {
    const store = new FlakyStore(Number.POSITIVE_INFINITY);
    const { writer, metrics } = makeWriter(store, { stopTimeoutMs: 2000 });
    for (let i = 0; i < 7; i++) writer.addReading(reading(i));
    const stopped = writer.stop();
    await vi.advanceTimersByTimeAsync(10_000);
    await stopped;
    expect(metrics.stats).toMatchObject({ readingsAccepted: 7, readingsWritten: 0, readingsDropped: 7, dropped: 7 });
  });

  it('splits a full batch in proportion so scores are not starved by a reading backlog', async () => {
    const store = new FlakyStore(1);
    const { writer } = makeWriter(store);
    for (let i = 0; i < 30; i++) writer.addReading(reading(i));
    for (let i = 0; i < 10; i++) {
      writer.addScore({ line: 'l', station: 's', ts: i, seq: i, score: 0, threshold: 1, t2: 0, spe: 0, anomalous: false, health: 'OK', modelVersion: 'v' });
    }
    await vi.advanceTimersByTimeAsync(1000);
    expect(store.written[0]!.scores.length).toBeGreaterThan(0);
    expect(store.written.reduce((n, b) => n + b.readings.length + b.scores.length, 0)).toBe(40);
  });
});

describe('StoreWriter and points a store refuses', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('counts points the store refused for good as dropped, not written', async () => {
    // The real case: InfluxDB refuses points older than its raw retention policy (see influx-store.int.test.ts).
    const store = {
      async write(batch: WriteBatch) {
        const old = batch.readings.filter((r) => r.seq < 3).length;
        return { rejected: { readings: old, scores: 0, anomalies: 0, wafers: 0, reason: 'older than the raw retention policy' } };
      },
    };
    const { writer, metrics } = makeWriter(store, { flushMs: 10 });
    for (let i = 0; i < 8; i++) writer.addReading(reading(i));
    await vi.advanceTimersByTimeAsync(20);
    expect(metrics.stats).toMatchObject({ readingsWritten: 5, readingsDropped: 3, dropped: 3, readingsBuffered: 0 });
    await writer.stop();
  });
});

describe('StoreWriter and wafer verdicts', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('batches verdicts with the other points, at most batchMax per write, each verdict once and in order', async () => {
    // The first write fails, so the whole backlog is buffered when the retry splits it into batches.
    const store = new FlakyStore(1);
    const { writer, metrics } = makeWriter(store);
    for (let i = 0; i < 15; i++) writer.addReading(reading(i));
    for (let i = 0; i < 12; i++) writer.addWaferVerdict(verdict(i, i === 4 ? { verdict: 'fault' } : i < 2 ? { verdict: 'baselining' } : {}));
    await vi.advanceTimersByTimeAsync(1000);
    expect(store.written.map((b) => b.readings.length + (b.wafers?.length ?? 0))).toEqual([10, 10, 7]);
    // A full batch is split in proportion: verdicts ride along with the reading backlog, not after it.
    expect(store.written[0]?.wafers).toHaveLength(4);
    expect(store.wafers).toEqual(Array.from({ length: 12 }, (_, i) => `W${i}`));
    expect(store.written.flatMap((b) => b.wafers ?? []).find((v) => v.wafer === 'W4')?.verdict).toBe('fault');
    expect(metrics.stats).toMatchObject({ waferVerdictsWritten: 12, waferVerdictsDropped: 0, readingsWritten: 15, dropped: 0 });
    expect(await metrics.registry.getSingleMetricAsString('linewatch_wafer_verdicts_written_total')).toContain('linewatch_wafer_verdicts_written_total 12');
  });

  it('keeps verdicts through a failing store and writes them once it is back, none lost, none twice', async () => {
    const store = new FlakyStore(4);
    const { writer, metrics } = makeWriter(store);
    for (let i = 0; i < 25; i++) writer.addWaferVerdict(verdict(i));
    await vi.advanceTimersByTimeAsync(1400);
    // Four failed attempts (at 0, 100, 300 and 700 ms): nothing is written, nothing leaves the buffer.
    expect(store.attempts).toBe(4);
    expect(writer.size).toBe(25);
    await vi.advanceTimersByTimeAsync(5000);
    expect(store.wafers).toEqual(Array.from({ length: 25 }, (_, i) => `W${i}`));
    expect(metrics.stats).toMatchObject({ writeErrors: 4, waferVerdictsWritten: 25, waferVerdictsDropped: 0, dropped: 0 });
    expect(writer.size).toBe(0);
  });

  it('writes buffered verdicts on stop(), and counts them as dropped when the store stays down', async () => {
    const up = new FlakyStore(1);
    const first = makeWriter(up);
    for (let i = 0; i < 3; i++) first.writer.addWaferVerdict(verdict(i));
    const stopped = first.writer.stop();
    await vi.advanceTimersByTimeAsync(1000);
    await stopped;
    expect(up.wafers).toEqual(['W0', 'W1', 'W2']);

    const down = makeWriter(new FlakyStore(Number.POSITIVE_INFINITY), { stopTimeoutMs: 500 });
    for (let i = 0; i < 3; i++) down.writer.addWaferVerdict(verdict(i));
    const given = down.writer.stop();
    await vi.advanceTimersByTimeAsync(2000);
    await given;
    expect(down.metrics.stats).toMatchObject({ waferVerdictsWritten: 0, waferVerdictsDropped: 3, dropped: 3 });
    expect(await down.metrics.registry.getSingleMetricAsString('linewatch_points_dropped_total')).toContain('kind="wafer"} 3');
  });

  it('counts verdicts the store refused for good as dropped, not written', async () => {
    const store = {
      async write(batch: WriteBatch) {
        const old = (batch.wafers ?? []).filter((v) => v.end < 3000).length;
        return { rejected: { readings: 0, scores: 0, anomalies: 0, wafers: old, reason: 'older than the raw retention policy' } };
      },
    };
    const { writer, metrics } = makeWriter(store, { flushMs: 10 });
    for (let i = 0; i < 6; i++) writer.addWaferVerdict(verdict(i));
    await vi.advanceTimersByTimeAsync(20);
    expect(metrics.stats).toMatchObject({ waferVerdictsWritten: 3, waferVerdictsDropped: 3, dropped: 3 });
    await writer.stop();
  });

  it('past the hard limit drops scores, then the newest verdicts, before anomalies and readings', async () => {
    const { writer, metrics } = makeWriter(new FlakyStore(Number.POSITIVE_INFINITY), { bufferMax: 3 });
    for (let i = 0; i < 4; i++) writer.addReading(reading(i));
    for (let i = 0; i < 4; i++) writer.addWaferVerdict(verdict(i));
    expect(writer.size).toBe(6);
    expect(metrics.stats).toMatchObject({ readingsDropped: 0, waferVerdictsDropped: 2, dropped: 2 });
  });
});

describe('StoreWriter shutdown deadline', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  const hung = { write: () => new Promise<void>(() => undefined) };

  /** Stops the writer and checks stop() resolves at the 500 ms deadline, not before and not later. */
  async function stopsAtDeadline(writer: StoreWriter): Promise<void> {
    let stopped = false;
    const stopping = writer.stop().then(() => (stopped = true));
    await vi.advanceTimersByTimeAsync(499);
    expect(stopped).toBe(false);
    await vi.advanceTimersByTimeAsync(2);
    await stopping;
  }

  it('does not let a hung store hold shutdown past its deadline, and counts what it could not write', async () => {
    const { writer, metrics } = makeWriter(hung, { flushMs: 10, stopTimeoutMs: 500 });
    for (let i = 0; i < 4; i++) writer.addReading(reading(i));
    await vi.advanceTimersByTimeAsync(20); // the flush timer starts a write that never returns
    await stopsAtDeadline(writer);
    expect(metrics.stats).toMatchObject({ readingsWritten: 0, readingsDropped: 4 });
  });

  it('also bounds a write that stop() starts itself', async () => {
    const { writer, metrics } = makeWriter(hung, { stopTimeoutMs: 500 });
    for (let i = 0; i < 4; i++) writer.addReading(reading(i));
    // Nothing is in flight yet (the flush timer has not fired): stop() writes the buffer itself.
    await stopsAtDeadline(writer);
    expect(metrics.stats).toMatchObject({ readingsWritten: 0, readingsDropped: 4, readingsBuffered: 0 });
  });

  it('does not also count as written an abandoned write that lands after the deadline', async () => {
    let land: () => void = () => undefined;
    const { writer, metrics } = makeWriter({ write: () => new Promise<void>((resolve) => (land = resolve)) }, { stopTimeoutMs: 500 });
    for (let i = 0; i < 4; i++) writer.addReading(reading(i));
    const stopping = writer.stop();
    await vi.advanceTimersByTimeAsync(501);
    await stopping;
    land();
    await vi.advanceTimersByTimeAsync(10);
    expect(metrics.stats).toMatchObject({ readingsAccepted: 4, readingsWritten: 0, readingsDropped: 4 });
  });
});
