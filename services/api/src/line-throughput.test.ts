import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { StationStatus } from '@linewatch/protocol';
import { TypedBus, type LineEvents } from './line-events.js';
import { LineThroughput, THROUGHPUT_WINDOW_MS } from './line-throughput.js';
import { status } from './testing/fixtures.js';

const T0 = 1_764_400_000_000;
const MIN = 60_000;
const LINE = 'fab1';
const ORDER: Record<string, number> = { 'load-01': 0, 'etch-01': 3, 'unload-01': 7 };

/** A throughput on a bus, with a clock the test moves. */
function setup(windowMs?: number) {
  const clock = { now: T0 };
  const bus = new TypedBus<LineEvents>((_e, err) => pino({ level: 'silent' }).error(err));
  const throughput = new LineThroughput({ bus, line: LINE, order: (s) => ORDER[s], now: () => clock.now, ...(windowMs ? { windowMs } : {}) });
  throughput.start();
  /** A status of `station` holding `wafer`, stamped now unless `ts` says otherwise. */
  const tell = (station: string, wafer: string | undefined, patch: Partial<StationStatus> = {}) =>
    bus.emit('status', status(LINE, station, { ts: clock.now, ...(wafer ? { context: { lot: 'L1', wafer } } : {}), ...patch }));
  return { clock, bus, throughput, tell };
}

describe('LineThroughput', () => {
  it('counts each wafer once at the last station in process order, null until two, over the time since start', () => {
    const { clock, throughput, tell } = setup();
    expect(throughput.stats()).toEqual({ at: T0, station: null, wafersPerHour: null, wafers: 0, windowMs: 0 });
    clock.now += MIN;
    tell('load-01', 'W1');
    tell('unload-01', 'W0');
    // The same wafer over many statuses is one wafer.
    for (let i = 0; i < 5; i++) tell('unload-01', 'W0');
    expect(throughput.stats()).toMatchObject({ station: 'unload-01', wafers: 1, wafersPerHour: null, windowMs: MIN });
    clock.now += 2 * MIN;
    tell('unload-01', 'W1');
    tell('load-01', 'W2');
    clock.now += MIN;
    // Two wafers in the 4 minutes since start: 30 an hour. load-01's wafers do not count.
    expect(throughput.stats()).toEqual({ at: T0 + 4 * MIN, station: 'unload-01', wafersPerHour: 30, wafers: 2, windowMs: 4 * MIN });
  });

  it('counts the last station that reports wafers, and switches once a later one does', () => {
    const { clock, throughput, tell } = setup();
    clock.now += 10 * MIN;
    tell('etch-01', 'W1');
    tell('unload-01', undefined);
    tell('load-01', 'W9');
    expect(throughput.stats().station).toBe('etch-01');
    // A station with no meta yet (no order) is never counted.
    tell('mystery-01', 'W7');
    expect(throughput.stats().station).toBe('etch-01');
    tell('unload-01', 'W0');
    expect(throughput.stats()).toMatchObject({ station: 'unload-01', wafers: 1 });
  });

  it('rates over the trailing hour once the API has run that long, and forgets wafers long gone', () => {
    const { clock, throughput, tell } = setup();
    // One wafer every 2 minutes for 3 hours: 30 an hour.
    for (let i = 0; i < 90; i++) {
      clock.now += 2 * MIN;
      tell('unload-01', `W${i}`);
    }
    const stats = throughput.stats();
    expect(stats.windowMs).toBe(THROUGHPUT_WINDOW_MS);
    expect(stats.wafers).toBe(30);
    expect(stats.wafersPerHour).toBe(30);
    // The line stops: after an hour with no wafer the rate is 0, not the last known one.
    clock.now += THROUGHPUT_WINDOW_MS;
    expect(throughput.stats()).toMatchObject({ wafers: 0, wafersPerHour: 0 });
  });

  it('does not count a wafer again while the tool keeps reporting it for hours', () => {
    const { clock, throughput, tell } = setup(10 * MIN);
    clock.now += MIN;
    tell('unload-01', 'W1');
    tell('unload-01', 'W2');
    // The tool holds W2 for an hour (down), its status still naming it every minute.
    for (let i = 0; i < 60; i++) {
      clock.now += MIN;
      tell('unload-01', 'W2');
    }
    expect(throughput.stats()).toMatchObject({ wafers: 0, wafersPerHour: 0 });
    // But a wafer that left for longer than the window and comes back (a rework) counts again.
    tell('unload-01', 'W1');
    expect(throughput.stats()).toMatchObject({ wafers: 1 });
  });

  it('ignores the replay line and wafers seen before the API started', () => {
    const { clock, bus, throughput, tell } = setup();
    // A retained status from before start: that wafer arrived earlier, so it is known but not counted.
    tell('unload-01', 'W0', { ts: T0 - 5 * MIN });
    clock.now += MIN;
    bus.emit('status', status('fab1-replay', 'unload-01', { ts: clock.now, context: { wafer: 'R1' } }));
    bus.emit('status', status('fab1-replay', 'unload-01', { ts: clock.now, context: { wafer: 'R2' } }));
    tell('unload-01', 'W0');
    tell('unload-01', 'W1');
    expect(throughput.stats()).toMatchObject({ station: 'unload-01', wafers: 1, wafersPerHour: null });
    // A tool clock running ahead does not put a wafer in the future.
    tell('unload-01', 'W2', { ts: clock.now + 10 * MIN });
    expect(throughput.stats()).toMatchObject({ wafers: 2, wafersPerHour: 120 });
  });

  it('stops counting when stopped', () => {
    const { clock, throughput, tell } = setup();
    throughput.stop();
    clock.now += MIN;
    tell('unload-01', 'W1');
    expect(throughput.stats().station).toBeNull();
  });
});
