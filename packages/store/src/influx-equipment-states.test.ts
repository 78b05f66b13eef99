import { describe, expect, it } from 'vitest';
import { assembleStates, rowToStateRow, stateBeforeQuery, statePointToPoint, statesInRangeQuery } from './influx-equipment-states.js';

describe('equipment states in InfluxDB', () => {
  it('tags line, station and replay only; state and reason are fields, reason always written', () => {
    const point = statePointToPoint({ line: 'fab1', station: 'etch-01', ts: 1_800_000_000_000, state: 'UNSCHEDULED_DOWN', reason: 'leak', replay: true });
    expect(point).toEqual({
      measurement: 'equipment_state',
      tags: { line: 'fab1', station: 'etch-01', replay: 'true' },
      fields: { state: 'UNSCHEDULED_DOWN', reason: 'leak' },
      timestamp: 1_800_000_000_000,
    });
    // '' rather than left out: a rewrite without a reason must clear the old one (InfluxDB merges fields).
    expect(statePointToPoint({ line: 'fab1', station: 'etch-01', ts: 1, state: 'PRODUCTIVE' }).fields).toEqual({ state: 'PRODUCTIVE', reason: '' });
  });

  it('reads an empty reason back as none', () => {
    expect(rowToStateRow({ time: new Date(5), state: 'STANDBY', reason: '' })).toEqual({ ts: 5, state: 'STANDBY' });
    expect(rowToStateRow({ time: new Date(5), state: 'STANDBY', reason: 'idle' })).toEqual({ ts: 5, state: 'STANDBY', reason: 'idle' });
  });

  it('queries the rollup policy with escaped ids: the range newest first, and one row before from', () => {
    const q = { line: 'fab1', station: 'etch-01', from: 1000, to: 2000, limit: 50 };
    expect(statesInRangeQuery('lw', q)).toBe(
      `SELECT "state", "reason" FROM "lw"."rollup"."equipment_state" WHERE "line" = 'fab1' AND "station" = 'etch-01' AND time >= 1000ms AND time < 2000ms ORDER BY time DESC LIMIT 50`,
    );
    expect(stateBeforeQuery('lw', q)).toBe(
      `SELECT "state", "reason" FROM "lw"."rollup"."equipment_state" WHERE "line" = 'fab1' AND "station" = 'etch-01' AND time >= 0ms AND time < 1000ms ORDER BY time DESC LIMIT 1`,
    );
    expect(() => statesInRangeQuery('lw', { ...q, station: "x' OR 1=1" })).toThrow('invalid station id');
    expect(() => stateBeforeQuery('lw', { ...q, from: -1 })).toThrow('epoch milliseconds');
  });

  it('assembles oldest first, one row per ts, with the state before from unless the page is full', () => {
    const before = { ts: 1, state: 'PRODUCTIVE' as const };
    // A live and a replayed change at one ts come back as two rows (two series).
    const inRange = [
      { ts: 30, state: 'STANDBY' as const },
      { ts: 20, state: 'ENGINEERING' as const },
      { ts: 20, state: 'ENGINEERING' as const, reason: 'replayed' },
    ];
    expect(assembleStates(inRange, before, 10).map((r) => r.ts)).toEqual([1, 20, 30]);
    expect(assembleStates(inRange, before, 3).map((r) => r.ts)).toEqual([20, 30]);
    expect(assembleStates([], before, 10)).toEqual([before]);
    expect(assembleStates([], undefined, 10)).toEqual([]);
  });
});
