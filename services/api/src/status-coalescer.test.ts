import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { StationStatus } from '@linewatch/protocol';
import { StatusCoalescer } from './status-coalescer.js';

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

describe('StatusCoalescer', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('sends the first update at once, then at most one per interval with the latest value', () => {
    const sent: StationStatus[] = [];
    let coalesced = 0;
    const c = new StatusCoalescer(250, (s) => sent.push(s), () => coalesced++);
    c.push(status('etch-01', 'OK', 0.1));
    c.push(status('etch-01', 'OK', 0.2));
    c.push(status('etch-01', 'OK', 0.3));
    expect(sent.map((s) => s.score)).toEqual([0.1]);
    vi.advanceTimersByTime(249);
    expect(sent).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(sent.map((s) => s.score)).toEqual([0.1, 0.3]);
    expect(coalesced).toBe(1);
    c.stop();
  });

  it('passes a health change immediately, dropping the waiting update', () => {
    const sent: StationStatus[] = [];
    const c = new StatusCoalescer(250, (s) => sent.push(s));
    c.push(status('etch-01', 'OK', 0.1));
    c.push(status('etch-01', 'OK', 0.5));
    c.push(status('etch-01', 'ALARM', 3));
    expect(sent.map((s) => s.health)).toEqual(['OK', 'ALARM']);
    vi.advanceTimersByTime(1000);
    expect(sent).toHaveLength(2);
    c.stop();
  });

  it('limits each station on its own', () => {
    const sent: StationStatus[] = [];
    const c = new StatusCoalescer(250, (s) => sent.push(s));
    c.push(status('a', 'OK', 1));
    c.push(status('b', 'OK', 1));
    expect(sent.map((s) => s.station)).toEqual(['a', 'b']);
    c.stop();
  });
});
