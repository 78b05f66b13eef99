import { Router } from 'express';
import { z } from 'zod';
import { IdSchema } from '@linewatch/protocol';
import type { Store } from '@linewatch/store';
import { HttpError, parseInput, singleValued } from './http-error.js';
import type { LineState } from './line-state.js';
import { TimeParamSchema } from './time-range.js';

export interface RoutesDeps {
  lineState: LineState;
  store: Store;
}

const StationParamsSchema = z.object({ station: IdSchema });

const AnomalyQuerySchema = z.object({
  station: IdSchema.optional(),
  limit: z.coerce.number().int().min(1).max(1_000).default(100),
  from: TimeParamSchema.optional(),
  to: TimeParamSchema.optional(),
});

/** REST over the live line picture (LineState) and its anomalies (Store); a station's history is in history-routes.ts. */
export function createRoutes({ lineState, store }: RoutesDeps): Router {
  const router = Router();
  const line = lineState.line;

  router.get('/api/stations', (_req, res) => {
    res.json(lineState.stations());
  });

  router.get('/api/stations/:station', (req, res) => {
    const { station } = parseInput(StationParamsSchema, req.params, 'station id');
    const view = lineState.station(station);
    if (!view) throw new HttpError(404, 'not_found', `unknown station "${station}" on line "${line}"`);
    res.json(view);
  });

  router.get('/api/anomalies', async (req, res) => {
    const q = parseInput(AnomalyQuerySchema, singleValued(req), 'query');
    if (q.from !== undefined && q.to !== undefined && q.to <= q.from)
      throw new HttpError(400, 'bad_request', 'invalid time range: to must be after from');
    const anomalies = await store
      .anomalies({ line, limit: q.limit, ...(q.station ? { station: q.station } : {}), ...(q.from !== undefined ? { from: q.from } : {}), ...(q.to !== undefined ? { to: q.to } : {}) })
      .catch((err: unknown) => {
        throw new HttpError(503, 'unavailable', 'anomaly store did not answer', { cause: err });
      });
    res.json(anomalies);
  });

  router.get('/healthz', (_req, res) => {
    res.json({ status: 'up' });
  });

  router.get('/readyz', async (_req, res) => {
    const storeUp = await store.ping().catch(() => false);
    const broker = lineState.brokerConnected;
    res.status(storeUp && broker ? 200 : 503).json({ status: storeUp && broker ? 'ready' : 'not_ready', broker, store: storeUp });
  });

  return router;
}
