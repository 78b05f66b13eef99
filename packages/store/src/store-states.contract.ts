import { beforeAll, describe, expect, it } from 'vitest';
import type { StatePoint, StateRow, Store } from './types.js';

const DAY_MS = 86_400_000;

/**
 * Equipment-state changes, part of the Store contract (called from store.contract.ts, so it runs against each
 * backend). `store()` is the contract's store, initialised; `line` is unique to the run, `t0` a recent minute.
 */
export function equipmentStatesContract(store: () => Store, line: string, t0: number): void {
  describe('equipment states', () => {
    const stateLine = `${line}s`;
    const station = 'etch-01';
    const change = (ts: number, state: StatePoint['state'], reason?: string, at = station, onLine = stateLine): StatePoint => ({
      line: onLine,
      station: at,
      ts,
      state,
      ...(reason !== undefined ? { reason } : {}),
    });
    const row = (p: StatePoint): StateRow => ({ ts: p.ts, state: p.state, ...(p.reason !== undefined ? { reason: p.reason } : {}) });
    // A tool PRODUCTIVE since long before the raw retention (30 days), then down and back within the contract's window.
    const history = [
      change(t0 - 40 * DAY_MS, 'PRODUCTIVE'),
      change(t0 + 10_000, 'UNSCHEDULED_DOWN', 'chamber leak'),
      change(t0 + 40_000, 'ENGINEERING', 'leak check'),
      change(t0 + 70_000, 'PRODUCTIVE'),
    ];
    // Changes of a neighbour and of another line, set where they would be the newest if they leaked.
    const neighbours = [
      change(t0 + 5_000, 'SCHEDULED_DOWN', 'PM', 'cmp-02'),
      change(t0 + 50_000, 'STANDBY', undefined, 'cmp-02'),
      change(t0 + 5_000, 'NON_SCHEDULED', 'holiday', station, `${stateLine}x`),
      change(t0 + 50_000, 'STANDBY', undefined, station, `${stateLine}x`),
    ];
    const range = { line: stateLine, station, from: t0, to: t0 + 100_000 };

    beforeAll(async () => {
      // Out of order and over two batches: the order of writes must not matter.
      await store().write({ readings: [], scores: [], anomalies: [], states: [history[2]!, history[0]!, ...neighbours.slice(0, 2)] });
      expect(await store().write({ readings: [], scores: [], anomalies: [], states: [history[3]!, history[1]!, ...neighbours.slice(2)] })).toBeUndefined();
    });

    it('returns the changes in [from, to), oldest first, preceded by the state the station was in at from', async () => {
      expect(await store().equipmentStates(range)).toEqual(history.map(row));
      // A change exactly at `from` is in the range, and the one before it is the state at `from`.
      expect(await store().equipmentStates({ ...range, from: t0 + 40_000 })).toEqual(history.slice(1).map(row));
      // `to` is exclusive; a range between two changes holds only the state at its start.
      expect(await store().equipmentStates({ ...range, from: t0 + 20_000, to: t0 + 40_000 })).toEqual([row(history[1]!)]);
      // bucketMs is ignored: state changes are never aggregated.
      expect(await store().equipmentStates({ ...range, bucketMs: 60_000 })).toEqual(history.map(row));
    });

    it('limit keeps the newest changes, and the state before from only when nothing was cut', async () => {
      expect(await store().equipmentStates({ ...range, limit: 2 })).toEqual(history.slice(2).map(row));
      expect(await store().equipmentStates({ ...range, limit: 3 })).toEqual(history.slice(1).map(row));
      expect(await store().equipmentStates({ ...range, limit: 4 })).toEqual(history.map(row));
    });

    it('a change written again overwrites itself, its state and reason included', async () => {
      const again = change(t0 + 40_000, 'ENGINEERING', 'leak check, second look');
      // Redelivered twice (a retained message after a reconnect), the second time without a reason.
      await store().write({ readings: [], scores: [], anomalies: [], states: [again] });
      let got = await store().equipmentStates(range);
      expect(got).toHaveLength(4);
      expect(got[2]).toEqual(row(again));
      await store().write({ readings: [], scores: [], anomalies: [], states: [change(t0 + 40_000, 'ENGINEERING')] });
      got = await store().equipmentStates(range);
      expect(got).toHaveLength(4);
      expect(got[2]).toEqual({ ts: t0 + 40_000, state: 'ENGINEERING' });
      // Put back as it was, for the other cases.
      await store().write({ readings: [], scores: [], anomalies: [], states: [history[2]!] });
      expect(await store().equipmentStates(range)).toEqual(history.map(row));
    });

    it('does not mix in the changes of another station or line, neither in the range nor as the state at from', async () => {
      expect(await store().equipmentStates({ ...range, from: t0 + 60_000 })).toEqual([row(history[2]!), row(history[3]!)]);
      expect(await store().equipmentStates({ ...range, station: 'cmp-02' })).toEqual(neighbours.slice(0, 2).map(row));
      expect(await store().equipmentStates({ ...range, line: `${stateLine}x` })).toEqual(neighbours.slice(2).map(row));
      expect(await store().equipmentStates({ ...range, station: 'cmp-02', from: t0 + 60_000 })).toEqual([row(neighbours[1]!)]);
    });

    it('is empty for a station without changes, and before the first change', async () => {
      expect(await store().equipmentStates({ ...range, station: 'etch-99' })).toEqual([]);
      expect(await store().equipmentStates({ ...range, line: `${stateLine}-none` })).toEqual([]);
      expect(await store().equipmentStates({ ...range, from: t0 - 50 * DAY_MS, to: t0 - 45 * DAY_MS })).toEqual([]);
      // Up to and excluding the first change: nothing before it, nothing in it.
      expect(await store().equipmentStates({ ...range, from: 0, to: history[0]!.ts })).toEqual([]);
    });
  });
}
