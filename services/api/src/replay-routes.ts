import { Router } from 'express';
import { z } from 'zod';
import type { ReplayRequest } from '@linewatch/protocol';
import { requireToken } from './auth.js';
import { parseInput } from './http-error.js';
import type { RecordingLibrary } from './recordings.js';
import type { ReplayControl } from './replay-control.js';

/** Fastest paced replay; beyond it, `max` plays as fast as the broker acknowledges. */
export const MAX_REPLAY_SPEED = 100;

/** Body of POST /api/replay; the one place it is checked. */
export const ReplayRequestSchema = z
  .object({
    recording: z.string().min(1).max(255),
    speed: z.union([z.literal('max'), z.number().min(1).max(MAX_REPLAY_SPEED)], { error: `speed must be a number from 1 to ${MAX_REPLAY_SPEED}, or "max"` }),
    loop: z.boolean().default(false),
    timestamps: z.enum(['shifted', 'original']).default('shifted'),
  })
  .strict();

// The schema and the protocol's type must describe the same body.
const _sameShape: Required<ReplayRequest> = {} as z.output<typeof ReplayRequestSchema>;
void _sameShape;

export interface ReplayRoutesDeps {
  library: RecordingLibrary;
  replay: ReplayControl;
  apiToken: string;
}

/**
 * Replays from the page: reading the recordings and the replay status is open like the rest of the API; starting
 * and stopping need the API token.
 */
export function createReplayRoutes({ library, replay, apiToken }: ReplayRoutesDeps): Router {
  const router = Router();
  const authorised = requireToken(apiToken);

  router.get('/api/recordings', async (_req, res) => {
    res.json(await library.list());
  });

  router.get('/api/replay', (_req, res) => {
    res.json(replay.status());
  });

  router.post('/api/replay', authorised, async (req, res) => {
    const request = parseInput(ReplayRequestSchema, req.body, 'body');
    res.status(202).json(await replay.start(request));
  });

  router.delete('/api/replay', authorised, async (_req, res) => {
    res.json(await replay.stop());
  });

  return router;
}
