import { Router } from 'express';
import { z } from 'zod';
import { IdSchema, type AlertMark, type StationHistory } from '@linewatch/protocol';
import type { AlertEventPoint, Store } from '@linewatch/store';
import { HttpError, parseInput, singleValued } from './http-error.js';
import type { LineState } from './line-state.js';
import { BucketParamSchema, TimeParamSchema, resolveTimeRange } from './time-range.js';

/** Anomalies one history answer carries, newest first (a chart cannot show more markers than that anyway). */
export const HISTORY_ANOMALY_LIMIT = 500;

export interface HistoryRoutesDeps {
  lineState: Pick<LineState, 'line' | 'replayLine' | 'picture'>;
  store: Pick<Store, 'readings' | 'scores' | 'equipmentStates' | 'anomalies' | 'alertEvents'>;
  now?: () => number;
}

const StationParamsSchema = z.object({ station: IdSchema });

const HistoryQuerySchema = z.object({
  /** The live line by default; the replay line for a replayed station. */
  line: IdSchema.optional(),
  from: TimeParamSchema.optional(),
  to: TimeParamSchema.optional(),
  bucket: BucketParamSchema.optional(),
  /** `scores`: only the scores (a tile's sparkline catching up after a reconnect needs no readings). */
  only: z.literal('scores').optional(),
});

export function toAlertMark(event: AlertEventPoint): AlertMark {
  const { alertId, at, from, to, severity, source, reason } = event;
  return { alertId, at, from, to, severity, source, reason };
}

/**
 * `GET /api/stations/:station/history`: everything the station view charts over a time range, from the store.
 * Readings and scores come bucketed over long ranges; state changes, anomalies and alert transitions never are
 * (they are few). `?line=` may name the live line or the replay line, so a replayed station has its charts too.
 */
export function createHistoryRoutes({ lineState, store, now = Date.now }: HistoryRoutesDeps): Router {
  const router = Router();

  router.get('/api/stations/:station/history', async (req, res) => {
    const { station } = parseInput(StationParamsSchema, req.params, 'station id');
    const q = parseInput(HistoryQuerySchema, singleValued(req), 'query');
    const line = q.line ?? lineState.line;
    const picture = lineState.picture(line);
    if (!picture)
      throw new HttpError(400, 'bad_request', `invalid query: line must be "${lineState.line}" or its replay line "${lineState.replayLine}"`);
    // A station the line never announced is a typo, not an empty history.
    if (!picture.knows(station)) throw new HttpError(404, 'not_found', `unknown station "${station}" on line "${line}"`);
    const range = resolveTimeRange({ from: q.from, to: q.to, bucketMs: q.bucket }, now());
    if (typeof range === 'string') throw new HttpError(400, 'bad_request', `invalid time range: ${range}`);
    const { from, to } = range;
    const query = { line, station, from, to, ...(range.bucketMs ? { bucketMs: range.bucketMs } : {}) };
    const all = q.only === undefined;
    const [readings, scores, states, anomalies, alertEvents] = await Promise.all([
      all ? store.readings(query) : [],
      store.scores(query),
      all ? store.equipmentStates({ line, station, from, to }) : [],
      all ? store.anomalies({ line, station, from, to, limit: HISTORY_ANOMALY_LIMIT }) : [],
      all ? store.alertEvents({ line, station, from, to }) : [],
    ]).catch((err: unknown) => {
      throw new HttpError(503, 'unavailable', 'history store did not answer', { cause: err });
    });
    const history = {
      line,
      station,
      from,
      to,
      bucketMs: range.bucketMs ?? null,
      readings,
      scores,
      states,
      anomalies,
      alerts: alertEvents.map(toAlertMark),
    } satisfies StationHistory;
    res.json(history);
  });

  return router;
}
