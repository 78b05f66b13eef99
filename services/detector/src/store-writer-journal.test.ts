import { appendFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Store, WriteBatch } from '@linewatch/store';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { until } from '../../../test/support/until.js';
import { Journal } from './journal.js';
import { DetectorMetrics } from './metrics.js';
import { StoreWriter, type StoreWriterOptions } from './store-writer.js';
import { FlakyStore, makeWriter, reading } from './store-writer.test-support.js';

// Real timers: the journal does real file I/O, which fake timers do not wait for. Intervals are tens of
// milliseconds and every wait is a bounded poll on a condition, so a slow machine makes these slower, not wrong.

/** A store with an outage switch, and optionally writes that wait until the test lets each one land. */
class OutageStore extends FlakyStore {
  down = false;
  /** While true, each write waits in `held` until the test calls it: a slow store, under the test's control. */
  hold = false;
  readonly held: (() => void)[] = [];
  /** Milliseconds every write takes. */
  delayMs = 0;
  started = 0;

  constructor() {
    super(0);
  }

  override async write(batch: WriteBatch): Promise<void> {
    this.started++;
    if (this.delayMs > 0) await sleep(this.delayMs);
    if (this.hold) await new Promise<void>((resolve) => this.held.push(resolve));
    if (this.down) {
      this.attempts++;
      this.attemptTimes.push(Date.now());
      throw new Error('store unavailable');
    }
    await super.write(batch);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves with `promise`, or fails naming `what` if it has not settled within `ms`: a broken writer fails, never hangs. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not settled after ${ms} ms`)), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Tracks whether a promise has settled, without awaiting it. */
function track(promise: Promise<void>): { settled: boolean } {
  const state = { settled: false };
  void promise.then(() => (state.settled = true));
  return state;
}

const seqs = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

async function segmentFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.endsWith('.jsonl')).sort();
}

describe('StoreWriter with a journal', () => {
  let dir: string;
  let writers: StoreWriter[];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'linewatch-writer-journal-'));
    writers = [];
  });

  afterEach(async () => {
    for (const writer of writers) await writer.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /**
   * A started writer with a journal in the test's folder. Built here rather than with makeWriter, which calls
   * start() without awaiting it: the journal must be open before the first point is added.
   */
  async function startWriter(store: Pick<Store, 'write'>, options: Partial<StoreWriterOptions> = {}, maxBytes = 1_000_000) {
    const journal = new Journal({ dir, maxBytes });
    const metrics = new DetectorMetrics();
    const writer = new StoreWriter({
      store: store as unknown as Store,
      metrics,
      logger: pino({ level: 'silent' }),
      options: { batchMax: 10, flushMs: 20, bufferMax: 50, retryBaseMs: 20, retryMaxMs: 50, stopTimeoutMs: 2000, journal, ...options },
    });
    writers.push(writer);
    await writer.start();
    return { writer, metrics, journal };
  }

  it('journals a failed write at once and the points after it every flush, then replays them all in order once the store is back', async () => {
    const store = new OutageStore();
    store.down = true;
    const { writer, metrics, journal } = await startWriter(store);

    for (const seq of seqs(0, 5)) writer.addReading(reading(seq));
    const first = writer.durable();
    await until('the failed batch in the journal', () => store.attempts >= 1 && journal.points === 5 && writer.size === 0);
    await within(first, 5000, 'durable() while the store is down');
    expect(metrics.stats.journalSpilled).toBe(5);
    expect(writer.storage).toMatchObject({ state: 'degraded', failing: true, buffered: 0, journalPoints: 5, droppedJournalFull: 0 });
    expect(writer.storage.journalBytes).toBeGreaterThan(0);

    // Later points go to disk every flush, without a successful store write: memory empties each time.
    let next = 5;
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 8; i++) writer.addReading(reading(next++));
      await within(writer.durable(), 5000, `durable() in outage round ${round}`);
      expect(writer.size).toBe(0);
      expect(journal.points).toBe(next);
      expect(writer.storage.state).toBe('degraded');
    }
    expect(store.written).toEqual([]);
    expect(metrics.stats).toMatchObject({ journalSpilled: next, journalReplayed: 0, dropped: 0 });

    store.down = false;
    // The replay counter is the last thing the writer updates for a batch (after the journal's own bookkeeping).
    await until('the journal replayed', () => journal.empty && writer.storage.state === 'ok' && metrics.stats.journalReplayed === next, {
      progress: () => ({ ...writer.storage, replayed: metrics.stats.journalReplayed }),
    });
    expect(store.readings).toEqual(seqs(0, next));
    for (const written of store.written) expect(written.readings.length).toBeLessThanOrEqual(10);
    expect(writer.storage).toMatchObject({ state: 'ok', failing: false, buffered: 0, journalPoints: 0, journalBytes: 0 });
    expect(metrics.stats).toMatchObject({ journalSpilled: next, journalReplayed: next, readingsAccepted: next, readingsWritten: next, dropped: 0 });
    expect(await metrics.registry.getSingleMetricAsString('linewatch_journal_spilled_points_total')).toContain(`linewatch_journal_spilled_points_total ${next}`);
    expect(await metrics.registry.getSingleMetricAsString('linewatch_journal_replayed_points_total')).toContain(`linewatch_journal_replayed_points_total ${next}`);
    expect(await segmentFiles(dir)).toEqual([]);
  });

  it('makes the batch whose write failed durable in the journal at once, not after the flush or the store backoff', async () => {
    const store = new OutageStore();
    store.down = true;
    // Neither a flush nor a store retry can come within the test: only an immediate spill resolves durable().
    const { writer, metrics, journal } = await startWriter(store, { flushMs: 60_000, retryBaseMs: 60_000, retryMaxMs: 60_000 });
    for (const seq of seqs(0, 3)) writer.addReading(reading(seq));
    await within(writer.durable(true), 5000, 'durable(true) with the store down');
    expect(store.attempts).toBe(1);
    expect(journal.points).toBe(3);
    expect(metrics.stats).toMatchObject({ journalSpilled: 3, dropped: 0, writeErrors: 1 });
    expect(writer.storage).toMatchObject({ state: 'degraded', failing: true, buffered: 0, journalPoints: 3 });
  });

  it('writes new points after the journaled ones: the store sees seqs strictly increasing through an outage and recovery', async () => {
    const store = new OutageStore();
    // A replay that takes a while, so points keep arriving while the journal still holds older ones.
    store.delayMs = 3;
    const { writer, metrics, journal } = await startWriter(store);

    const total = 300;
    let journaledAtRecovery = 0;
    let bufferedAtRecovery = 0;
    for (let seq = 0; seq < total; seq++) {
      if (seq === 60) store.down = true;
      if (seq === 180) {
        journaledAtRecovery = journal.points;
        bufferedAtRecovery = writer.size;
        store.down = false;
      }
      // As ingest does: a producer that ignored backpressure would be cut off at the hard limit on a slow disk.
      await within(writer.waitForRoom(), 10_000, `room in the buffer for seq ${seq}`);
      writer.addReading(reading(seq));
      if (seq % 3 === 0) await sleep(1);
    }
    await within(writer.durable(true), 5000, 'durable() after the producer stopped');
    await until('everything written', () => journal.empty && store.readings.length >= total, {
      progress: () => ({ ...writer.storage, written: store.readings.length, dropped: metrics.stats.dropped }),
    });

    const written = store.readings;
    for (let i = 1; i < written.length; i++) {
      if (written[i]! <= written[i - 1]!) throw new Error(`seq ${written[i]} written after ${written[i - 1]} (batch order broken)`);
    }
    expect(written).toEqual(seqs(0, total));
    // The scenario did what it claims: an outage that filled the journal, and recovery through it.
    expect(journaledAtRecovery).toBeGreaterThan(0);
    // Points that arrived after the store came back, while the journal was still replaying, queued behind it on disk.
    expect(metrics.stats.journalSpilled).toBeGreaterThan(journaledAtRecovery + bufferedAtRecovery);
    expect(metrics.stats.journalReplayed).toBe(metrics.stats.journalSpilled);
    expect(metrics.stats).toMatchObject({ readingsWritten: total, dropped: 0 });
    expect(writer.storage.state).toBe('ok');
  });

  it('resolves durable() only once the points added before it are written, batch by batch, on a slow store', async () => {
    const store = new OutageStore();
    store.hold = true;
    const { writer } = await startWriter(store, { batchMax: 2, flushMs: 60_000 });
    for (const seq of seqs(0, 4)) writer.addReading(reading(seq));
    const durable = track(writer.durable(true));
    // Added after the call: durable() does not wait for it (it does not need to be written first).
    writer.addReading(reading(4));

    await until('the first write in flight', () => store.held.length === 1);
    await sleep(30);
    expect(durable.settled).toBe(false);
    store.held.shift()!();
    await until('the second write in flight', () => store.held.length === 1 && store.readings.length === 2);
    await sleep(30);
    expect(store.readings).toEqual([0, 1]);
    expect(durable.settled).toBe(false);
    store.held.shift()!();
    await until('durable() resolved', () => durable.settled);
    expect(store.readings).toEqual([0, 1, 2, 3]);

    store.hold = false;
    for (const release of store.held.splice(0)) release();
    await within(writer.durable(true), 2000, 'durable(true) for the last point');
    expect(store.readings).toEqual([0, 1, 2, 3, 4]);
  });

  it('durable(true) writes now, not after flushMs; durable() waits for the flush', async () => {
    const store = new OutageStore();
    const { writer } = await startWriter(store, { flushMs: 60_000 });
    writer.addReading(reading(0));
    const patient = track(writer.durable());
    await sleep(200);
    expect(patient.settled).toBe(false);
    expect(store.started).toBe(0);

    await within(writer.durable(true), 5000, 'durable(true)');
    expect(store.readings).toEqual([0]);
    await until('the earlier durable() resolved by the same write', () => patient.settled);
  });

  it('drops and counts points the journal has no room for, and durable() still resolves', async () => {
    const store = new OutageStore();
    store.down = true;
    // No record fits in 64 bytes.
    const { writer, metrics, journal } = await startWriter(store, {}, 64);
    for (const seq of seqs(0, 10)) writer.addReading(reading(seq));
    await within(writer.durable(), 2000, 'durable() with the journal full');
    for (const seq of seqs(10, 15)) writer.addReading(reading(seq));
    await within(writer.durable(), 2000, 'durable() with the journal still full');

    expect(writer.size).toBe(0);
    expect(journal.empty).toBe(true);
    expect(writer.storage).toMatchObject({ droppedJournalFull: 15, journalPoints: 0, buffered: 0, failing: true, state: 'degraded' });
    expect(metrics.stats).toMatchObject({ dropped: 15, readingsDropped: 15, journalSpilled: 0, readingsWritten: 0 });
    expect(await metrics.registry.getSingleMetricAsString('linewatch_points_dropped_total')).toContain('kind="reading"} 15');
    expect(await within(writer.stop(), 3000, 'stop()')).toBe(true);
  });

  it('writes to the store again once it is back, after an outage in which the journal was too full to take anything', async () => {
    const store = new OutageStore();
    store.down = true;
    const { writer, metrics } = await startWriter(store, {}, 64);
    for (const seq of seqs(0, 10)) writer.addReading(reading(seq));
    await within(writer.durable(), 2000, 'durable() with the journal full');
    expect(metrics.stats.dropped).toBe(10);

    store.down = false;
    // The store has been back for a while; points keep arriving.
    let next = 10;
    await until(
      'new points written to the store that is back',
      () => {
        writer.addReading(reading(next++));
        return store.readings.length > 0;
      },
      { timeoutMs: 3000, intervalMs: 50, progress: () => ({ ...writer.storage, dropped: metrics.stats.dropped, attempts: store.attempts }) },
    );
    await within(writer.durable(true), 2000, 'durable(true) once the store is back');
    expect(store.readings.length).toBeGreaterThan(0);
    // Writing again, but points were dropped within the last minute: still degraded, and it says why.
    expect(writer.storage).toMatchObject({ state: 'degraded', failing: false, dropping: true, droppedJournalFull: 10 });
  });

  it('stop() with the store down journals what is left and returns true; the next writer replays it at start()', async () => {
    const down = new OutageStore();
    down.down = true;
    const first = await startWriter(down);
    for (const seq of seqs(0, 5)) first.writer.addReading(reading(seq));
    await until('the first points journaled', () => first.journal.points === 5 && first.writer.size === 0);
    // These are still in memory when stop() comes.
    for (const seq of seqs(5, 12)) first.writer.addReading(reading(seq));
    expect(first.writer.size).toBe(7);

    expect(await within(first.writer.stop(), 5000, 'stop() with the store down')).toBe(true);
    expect(first.metrics.stats).toMatchObject({ dropped: 0, journalSpilled: 12, readingsWritten: 0 });
    expect(first.writer.size).toBe(0);
    expect(await segmentFiles(dir)).not.toEqual([]);

    const up = new OutageStore();
    const second = await startWriter(up);
    expect(second.journal.points).toBe(12);
    await until('the journal of the earlier run replayed', () => second.journal.empty && up.readings.length === 12);
    expect(up.readings).toEqual(seqs(0, 12));
    expect(second.metrics.stats).toMatchObject({ journalReplayed: 12, readingsWritten: 12, dropped: 0 });
    expect(second.writer.storage.state).toBe('ok');
    expect(await segmentFiles(dir)).toEqual([]);
  });

  it('stop() that finds the store down itself journals the buffer and returns true', async () => {
    const store = new OutageStore();
    store.down = true;
    const { writer, metrics, journal } = await startWriter(store, { flushMs: 60_000 });
    for (const seq of seqs(0, 7)) writer.addReading(reading(seq));
    expect(store.attempts).toBe(0);
    expect(await within(writer.stop(), 5000, 'stop() with the store down')).toBe(true);
    expect(store.attempts).toBeGreaterThanOrEqual(1);
    expect(metrics.stats).toMatchObject({ journalSpilled: 7, dropped: 0, readingsWritten: 0 });
    expect(journal.points).toBe(7);
  });

  it('replays the good lines of a journal with a corrupt one, and counts the corrupt line', async () => {
    const earlier = new Journal({ dir, maxBytes: 1_000_000 });
    await earlier.open();
    await earlier.append({ readings: [reading(0), reading(1)], scores: [], anomalies: [] });
    await earlier.close();
    const [segment] = await segmentFiles(dir);
    await appendFile(join(dir, segment!), 'not a journal line\n');
    await appendFile(join(dir, segment!), `${JSON.stringify({ n: 1, b: { readings: [reading(2)], scores: [], anomalies: [] } })}\n`);

    const store = new OutageStore();
    const { writer, metrics, journal } = await startWriter(store);
    await until('the journal replayed', () => journal.empty && store.readings.length === 3);
    expect(store.readings).toEqual([0, 1, 2]);
    expect(await metrics.registry.getSingleMetricAsString('linewatch_journal_corrupt_records_total')).toContain('linewatch_journal_corrupt_records_total 1');
    expect(writer.storage.state).toBe('ok');
  });

  it('opens the journal once when start() is called again while the first call is still opening it', async () => {
    const earlier = new Journal({ dir, maxBytes: 1_000_000 });
    await earlier.open();
    for (const seq of seqs(0, 3)) await earlier.append({ readings: [reading(seq)], scores: [], anomalies: [] });
    await earlier.close();

    // A store whose writes never return keeps the write loop(s) parked on the first replay, so they can be counted.
    const hung = { calls: 0, write: () => ((hung.calls += 1), new Promise<void>(() => undefined)) };
    const journal = new Journal({ dir, maxBytes: 1_000_000 });
    // makeWriter calls start() without awaiting it; the test then awaits its own start(), as callers may.
    const { writer } = makeWriter(hung, { journal, flushMs: 20, stopTimeoutMs: 200 });
    writers.push(writer);
    await writer.start();
    await until('the replay of the first batch under way', () => hung.calls >= 1);
    await sleep(50);
    expect({ journalPoints: journal.points, storeWrites: hung.calls }).toEqual({ journalPoints: 3, storeWrites: 1 });
  });

  it('drains the journal after an outage while the line keeps sending urgent ack groups, on a store with a write delay', async () => {
    // The review's case: every ack group is urgent, so the journal fills with tiny records; replay one record per
    // store write would never catch up. Inflow here is about 2,000 points/s on a store taking 10 ms a write.
    const store = new OutageStore();
    store.delayMs = 10;
    store.down = true;
    const { writer, metrics, journal } = await startWriter(store, { batchMax: 500, bufferMax: 5000 }, 50_000_000);
    let next = 0;
    let sending = true;
    const sender = (async () => {
      for (let tick = 0; sending && tick < 2000; tick++) {
        for (let i = 0; i < 4; i++) writer.addReading(reading(next++));
        await writer.durable(true);
        await sleep(2);
      }
    })();
    await until('a backlog in the journal', () => journal.points > 1000, { timeoutMs: 5000 });
    store.down = false;
    await until('the journal drained while points keep coming', () => journal.empty && writer.storage.state === 'ok', {
      timeoutMs: 10_000, intervalMs: 20, progress: () => ({ journal: journal.points, sent: next }),
    });
    sending = false;
    await sender;
    await within(writer.durable(true), 2000, 'the last points written');
    // Every point once, in order.
    expect(store.readings).toEqual(seqs(0, next));
    expect(metrics.stats.dropped).toBe(0);
  });

  it('takes a store write that hangs as failed after writeTimeoutMs, journals its batch, and writes it once the store answers', async () => {
    const store = new OutageStore();
    store.hold = true;
    const { writer, metrics, journal } = await startWriter(store, { writeTimeoutMs: 100 });
    for (const seq of seqs(0, 4)) writer.addReading(reading(seq));
    const began = Date.now();
    await within(writer.durable(true), 2000, 'durable() while the store hangs');
    expect(Date.now() - began).toBeGreaterThanOrEqual(90);
    expect(journal.points).toBe(4);
    expect(metrics.stats.writeErrors).toBeGreaterThanOrEqual(1);
    // The hung writes answer at last; from then on the store takes writes and the journal is replayed.
    store.hold = false;
    for (const wake of store.held.splice(0)) wake();
    await until('replayed', () => journal.empty && writer.storage.state === 'ok', { timeoutMs: 3000 });
    // The late write may have landed too; the store keys each point, so what counts is every reading, in order.
    expect([...new Set(store.readings)]).toEqual(seqs(0, 4));
  });

  it('tries the store again as soon as it answers a ping, not when a long backoff is over', async () => {
    /** The store's ping says whether it is up, as InfluxDB's /ping does. */
    class PingableStore extends OutageStore {
      async ping(): Promise<boolean> {
        return !this.down;
      }
    }
    const store = new PingableStore();
    store.down = true;
    // A backoff that would wait a minute between attempts.
    const { writer, journal } = await startWriter(store, { retryBaseMs: 60_000, retryMaxMs: 60_000 });
    for (const seq of seqs(0, 5)) writer.addReading(reading(seq));
    await until('journaled', () => journal.points === 5 && store.attempts === 1);
    store.down = false;
    const backAt = Date.now();
    await until('replayed after the store answered a ping', () => journal.empty && store.readings.length === 5, { timeoutMs: 5_000 });
    // A ping a second: within about one of them, not after the 60 s backoff.
    expect(Date.now() - backAt).toBeLessThan(3_000);
    expect(store.readings).toEqual(seqs(0, 5));
  });

  it('keeps a segment it could not read, and replays it once it can', async () => {
    const store = new OutageStore();
    store.down = true;
    const { writer, metrics, journal } = await startWriter(store);
    for (const seq of seqs(0, 6)) writer.addReading(reading(seq));
    await until('journaled', () => journal.points === 6 && writer.size === 0);
    // The segment becomes unreadable (a directory in its place reads as EISDIR, even for root, as EIO would):
    // replay must fail and keep it, not delete it.
    const [segment] = await segmentFiles(dir);
    const file = join(dir, segment!);
    const content = await readFile(file);
    await rm(file);
    await mkdir(file);
    const errorsBefore = metrics.stats.writeErrors;
    store.down = false;
    await until('a replay attempt failed on the read', () => metrics.stats.writeErrors > errorsBefore, { timeoutMs: 3000 });
    expect(journal.points).toBe(6);
    expect(store.readings).toEqual([]);
    await rm(file, { recursive: true });
    await writeFile(file, content);
    await until('replayed once readable', () => journal.empty && store.readings.length === 6, { timeoutMs: 5000 });
    expect(store.readings).toEqual(seqs(0, 6));
  });

});

describe('StoreWriter without a journal', () => {
  it('stop() with the store down returns false and counts what it could not write', async () => {
    const { writer, metrics } = makeWriter(new FlakyStore(Number.POSITIVE_INFINITY), { flushMs: 20, retryBaseMs: 20, retryMaxMs: 50, stopTimeoutMs: 300 });
    for (const seq of seqs(0, 7)) writer.addReading(reading(seq));
    expect(await within(writer.stop(), 3000, 'stop() with the store down')).toBe(false);
    expect(metrics.stats).toMatchObject({ readingsAccepted: 7, readingsWritten: 0, readingsDropped: 7, dropped: 7, journalSpilled: 0 });
    expect(writer.storage).toMatchObject({ buffered: 0, journalPoints: 0, droppedJournalFull: 0 });
  });
});
