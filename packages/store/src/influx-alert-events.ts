import type { IPoint } from 'influx';
import { type InfluxRow, RP } from './influx-schema.js';
import { source, whereClause } from './influx-query.js';
import type { AlertEventPoint, AlertEventQuery } from './types.js';
import { checkedLimit, DEFAULT_LIMIT } from './validate.js';

/**
 * Alert transitions in InfluxDB: measurement `alert_event`, tagged by what one filters and groups on (line,
 * station, source, class, the state entered, severity, replay), with the alert id, the state left and the
 * reason as fields. Two transitions of one alert in one millisecond differ in `to`, so neither overwrites the other.
 */
export const ALERT_EVENT_MEASUREMENT = 'alert_event';

export function alertEventToPoint(e: AlertEventPoint): IPoint {
  return {
    measurement: ALERT_EVENT_MEASUREMENT,
    tags: { line: e.line, station: e.station, source: e.source, class: e.class, to: e.to, severity: e.severity, replay: e.replay ? 'true' : 'false' },
    fields: { alert_id: e.alertId, from: e.from ?? '', reason: e.reason },
    timestamp: e.at,
  };
}

export function rowToAlertEvent(row: InfluxRow): AlertEventPoint {
  const text = (key: string): string => (typeof row[key] === 'string' ? (row[key] as string) : '');
  return {
    alertId: text('alert_id'),
    line: text('line'),
    station: text('station'),
    source: text('source'),
    class: text('class') === 'data_quality' ? 'data_quality' : 'process',
    from: text('from') === '' ? null : text('from'),
    to: text('to'),
    severity: text('severity') === 'critical' ? 'critical' : 'warning',
    at: row.time.getTime(),
    reason: text('reason'),
    replay: text('replay') === 'true',
  };
}

export function alertEventsQuery(database: string, q: AlertEventQuery): string {
  const limit = checkedLimit(q.limit, DEFAULT_LIMIT);
  return `SELECT * FROM ${source(database, RP.raw, ALERT_EVENT_MEASUREMENT)} ${whereClause(q)} ORDER BY time ASC LIMIT ${limit}`;
}
