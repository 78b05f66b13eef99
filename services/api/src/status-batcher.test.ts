import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { StationStatus } from '@linewatch/protocol';
import { StatusBatcher } from './status-batcher.js';

const status = (station: string, health: StationStatus['health'], score: number): StationStatus => ({
  line: 'fab1',
  station,
  health,
  since: 0,
  ts: Date.now(),
  score,
  threshold: 1,
  modelVersion: 'm@1',
  contributors: [],
});

describe('StatusBatcher', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('sends every station’s latest status in one batch per interval, counting the ones replaced', () => {
    const sent: StationStatus[][] = [];
    let coalesced = 0;
    const b = new StatusBatcher(250, (batch) => sent.push(batch), () => coalesced++);
    // First statuses are news (no health known yet): they go at once.
    b.push(status('a', 'OK', 0.1));
    b.push(status('b', 'OK', 0.1));
    expect(sent.map((batch) => batch.map((s) => s.station))).toEqual([['a'], ['b']]);
    for (let i = 1; i <= 10; i++) {
      b.push(status('a', 'OK', 0.1 + i / 100));
      b.push(status('b', 'OK', 2 + i));
    }
    expect(sent).toHaveLength(2);
    vi.advanceTimersByTime(250);
    expect(sent).toHaveLength(3);
    expect(sent[2]?.map((s) => [s.station, s.score])).toEqual([['a', 0.2], ['b', 12]]);
    expect(coalesced).toBe(18);
  });

  it('sends a health change at once, with whatever waits', () => {
    const sent: StationStatus[][] = [];
    const b = new StatusBatcher(250, (batch) => sent.push(batch));
    b.push(status('a', 'OK', 0.1));
    b.push(status('b', 'OK', 0.1));
    b.push(status('b', 'OK', 0.2));
    b.push(status('a', 'ALARM', 4));
    expect(sent.at(-1)?.map((s) => [s.station, s.health])).toEqual([['b', 'OK'], ['a', 'ALARM']]);
    vi.advanceTimersByTime(1_000);
    expect(sent).toHaveLength(3);
  });

  it('stays within one batch per interval under a flood, and sends nothing after stop', () => {
    const sent: StationStatus[][] = [];
    const b = new StatusBatcher(250, (batch) => sent.push(batch));
    for (let s = 0; s < 50; s++) b.push(status(`s${s}`, 'OK', 0));
    const first = sent.length;
    for (let t = 0; t < 1_000; t += 10) {
      for (let s = 0; s < 50; s++) b.push(status(`s${s}`, 'OK', t));
      vi.advanceTimersByTime(10);
    }
    expect(sent.length - first).toBeLessThanOrEqual(4);
    expect(sent.at(-1)).toHaveLength(50);
    b.push(status('s0', 'OK', 1));
    b.stop();
    vi.advanceTimersByTime(1_000);
    expect(sent.at(-1)?.[0]?.score).not.toBe(1);
  });
});
