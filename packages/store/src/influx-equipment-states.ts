import type { IPoint } from 'influx';
import type { EquipmentState } from '@linewatch/protocol';
import { type InfluxRow, RP } from './influx-schema.js';
import { source, whereClause } from './influx-query.js';
import type { RangeQuery, StatePoint, StateRow } from './types.js';
import { DEFAULT_LIMIT, checkedLimit } from './validate.js';

/**
 * Equipment-state changes in InfluxDB: measurement `equipment_state`, one point per change at the state's `since`.
 * Tagged by line, station and replay only; the state and the reason are fields, so a change written again (a
 * retained state message redelivered after a reconnect) lands on itself even when its state or reason differ.
 *
 * The points live in the `rollup` RP, not in `raw`: a tool stays PRODUCTIVE for weeks, and its last change must
 * outlive the raw retention to tell the state at the start of any range the history can show (the rollups reach
 * back `rollupRetention`). Changes are a few per tool and day, so the long policy costs nothing.
 */
export const EQUIPMENT_STATE_MEASUREMENT = 'equipment_state';
export const EQUIPMENT_STATE_RP = RP.rollup;

export function statePointToPoint(p: StatePoint): IPoint {
  return {
    measurement: EQUIPMENT_STATE_MEASUREMENT,
    tags: { line: p.line, station: p.station, replay: p.replay ? 'true' : 'false' },
    // Always written, '' when absent: InfluxDB merges the fields of a rewrite, so a left-out reason would keep the old one.
    fields: { state: p.state, reason: p.reason ?? '' },
    timestamp: p.ts,
  };
}

export function rowToStateRow(row: InfluxRow): StateRow {
  const reason = row.reason;
  return {
    ts: row.time.getTime(),
    state: row.state as EquipmentState,
    ...(typeof reason === 'string' && reason !== '' ? { reason } : {}),
  };
}

/** The newest `limit` changes in [from, to), newest first (the store reverses them). */
export function statesInRangeQuery(database: string, q: RangeQuery): string {
  const limit = checkedLimit(q.limit, DEFAULT_LIMIT);
  const where = whereClause({ line: q.line, station: q.station, from: q.from, to: q.to });
  return `SELECT "state", "reason" FROM ${source(database, EQUIPMENT_STATE_RP, EQUIPMENT_STATE_MEASUREMENT)} ${where} ORDER BY time DESC LIMIT ${limit}`;
}

/**
 * The latest change before `from`: the state the station was in at `from`. One row, not `last()` per field, which
 * would take the reason from an older point when the latest has none.
 */
export function stateBeforeQuery(database: string, q: RangeQuery): string {
  const where = whereClause({ line: q.line, station: q.station, from: 0, to: q.from });
  return `SELECT "state", "reason" FROM ${source(database, EQUIPMENT_STATE_RP, EQUIPMENT_STATE_MEASUREMENT)} ${where} ORDER BY time DESC LIMIT 1`;
}

/**
 * Oldest first, preceded by the state at `from` unless the range alone fills `limit` (newest kept). A live and a
 * replayed change at one ts are two series; one row per ts is kept.
 */
export function assembleStates(inRangeNewestFirst: StateRow[], before: StateRow | undefined, limit: number): StateRow[] {
  const byTs = new Map<number, StateRow>();
  for (const row of [...inRangeNewestFirst].reverse()) byTs.set(row.ts, row);
  const rows = [...byTs.values()].sort((a, b) => a.ts - b.ts);
  // A full page means older changes were cut: the state before `from` would then not precede the first row.
  return before && inRangeNewestFirst.length < limit ? [before, ...rows] : rows;
}
