import { createHash } from 'node:crypto';
import { Router, type Request } from 'express';
import { z } from 'zod';
import { CommandSchema, IdSchema, type Command, type RebaselineRequest, type WaferVerdict } from '@linewatch/protocol';
import { byNewestStep, type Store } from '@linewatch/store';
import { requireToken } from './auth.js';
import { HttpError, parseInput, singleValued } from './http-error.js';
import type { LinePicture } from './line-picture.js';
import type { LineState } from './line-state.js';
import { TimeParamSchema } from './time-range.js';

/** Wafers a re-baseline takes when the request does not say. */
export const DEFAULT_REBASELINE_WAFERS = 5;

const StationParamsSchema = z.object({ station: IdSchema });

/** Query of GET /api/stations/:station/wafers; `from`/`to` (epoch ms or ISO) bound the end of the step, [from, to). */
const WafersQuerySchema = z.object({
  line: IdSchema.optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(100),
  from: TimeParamSchema.optional(),
  to: TimeParamSchema.optional(),
});

/** Body of POST /api/stations/:station/baseline; the one place it is checked. */
export const RebaselineRequestSchema = z.strictObject({
  wafers: z.number({ error: 'wafers must be a whole number from 1 to 50' }).int('wafers must be a whole number from 1 to 50').min(1, 'wafers must be at least 1').max(50, 'wafers must be at most 50').default(DEFAULT_REBASELINE_WAFERS),
  reason: z.string({ error: 'reason must be text' }).trim().max(200, 'reason must be at most 200 characters').optional(),
});

// The schema and the protocol's type must describe the same body.
const _sameShape: RebaselineRequest = {} as z.input<typeof RebaselineRequestSchema>;
void _sameShape;

/**
 * The command's id: `rebaseline/{line}/{station}/{requestedAt}`, readable in the detector's log. Ids longer than
 * the protocol allows (long line and station ids) name the station by a digest instead.
 */
export function rebaselineId(line: string, station: string, requestedAt: number): string {
  const readable = `rebaseline/${line}/${station}/${requestedAt}`;
  if (readable.length <= 100) return readable;
  const digest = createHash('sha256').update(`${line}/${station}`).digest('hex').slice(0, 16);
  return `rebaseline/${digest}/${requestedAt}`;
}

export interface WaferRoutesDeps {
  lineState: LineState;
  /** The wafer history: what a request with `from` or `to` reads. */
  store: Pick<Store, 'waferVerdicts'>;
  apiToken: string;
  now?: () => number;
}

/**
 * Wafer-level verdicts over REST: reading a station's verdicts is open like the rest of the API; re-baselining
 * needs the API token. Both act on the live line unless `?line=` names the replay line. Without `from`/`to` the
 * verdicts come from the API's memory (the newest RECENT_WAFERS of the line); with either, from the store.
 */
export function createWaferRoutes({ lineState, store, apiToken, now = Date.now }: WaferRoutesDeps): Router {
  const router = Router();
  const authorised = requireToken(apiToken);
  const lineOf = (line: string | undefined): LinePicture => {
    const picture = lineState.picture(line ?? lineState.line);
    if (!picture) throw new HttpError(404, 'not_found', `unknown line "${line ?? ''}": this API watches "${lineState.line}" and its replay line "${lineState.replayLine}"`);
    return picture;
  };
  const stationOf = (req: Request): string => parseInput(StationParamsSchema, req.params, 'station id').station;

  router.get('/api/stations/:station/wafers', async (req, res) => {
    const station = stationOf(req);
    const q = parseInput(WafersQuerySchema, singleValued(req), 'query');
    const picture = lineOf(q.line);
    const unknown = () => new HttpError(404, 'not_found', `unknown station "${station}" on line "${picture.line}"`);
    if (q.from === undefined && q.to === undefined) {
      if (!picture.knows(station)) throw unknown();
      res.json(picture.recentWafers(station, q.limit));
      return;
    }
    const from = q.from ?? 0;
    const to = q.to ?? Number.MAX_SAFE_INTEGER;
    if (to <= from) throw new HttpError(400, 'bad_request', 'invalid time range: to must be after from');
    const stored = await store
      .waferVerdicts({ line: picture.line, station, limit: q.limit, ...(q.from !== undefined ? { from } : {}), ...(q.to !== undefined ? { to } : {}) })
      .catch((err: unknown) => {
        throw new HttpError(503, 'unavailable', 'wafer verdict store did not answer', { cause: err });
      });
    // The detector writes in batches, so its newest verdicts may be in memory before they are in the store.
    const ids = new Set(stored.map((v) => v.id));
    const fresh = picture.recentWafers(station).filter((v) => v.end >= from && v.end < to && !ids.has(v.id));
    const verdicts: WaferVerdict[] = [...stored, ...fresh].sort(byNewestStep).slice(0, q.limit);
    // A station the line never knew and the store never saw is a typo, not an empty history.
    if (verdicts.length === 0 && !picture.knows(station)) throw unknown();
    res.json(verdicts);
  });

  router.post('/api/stations/:station/baseline', authorised, async (req, res) => {
    const station = stationOf(req);
    const { line } = parseInput(z.object({ line: IdSchema.optional() }), singleValued(req), 'query');
    const picture = lineOf(line);
    const body = parseInput(RebaselineRequestSchema, req.body ?? {}, 'body', 422);
    // A typo must not send a command nobody will ever act on.
    if (!picture.station(station)) throw new HttpError(404, 'not_found', `unknown station "${station}" on line "${picture.line}"`);
    const requestedAt = now();
    const command: Command = CommandSchema.parse({
      type: 'rebaseline',
      id: rebaselineId(picture.line, station, requestedAt),
      wafers: body.wafers,
      requestedAt,
      ...(body.reason ? { reason: body.reason } : {}),
    });
    await lineState.publishCommand(picture.line, station, command).catch((err: unknown) => {
      throw new HttpError(503, 'unavailable', `the re-baseline was not sent: ${(err as Error).message}; try again once the broker is back`, { cause: err });
    });
    res.status(202).json(command);
  });

  return router;
}
