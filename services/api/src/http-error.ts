import type { ErrorRequestHandler, Request, RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { z } from 'zod';

export type HttpErrorCode =
  | 'bad_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'payload_too_large'
  | 'unprocessable'
  | 'unavailable'
  | 'internal';

/** The one error type routes throw; the error middleware turns it into `{ error: { code, message } }`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: HttpErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'HttpError';
  }
}

/**
 * Parses request input with a zod schema, turning failures into one error that names every problem: 400 by
 * default, 422 for a well-formed body whose values are wrong (where an endpoint documents it so).
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, what: string, status: 400 | 422 = 400): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${i.path.length ? i.path.join('.') : what}: ${i.message}`).join('; ');
  throw new HttpError(status, status === 422 ? 'unprocessable' : 'bad_request', `invalid ${what}: ${problems}`, { cause: parsed.error });
}

/** Query values arrive as string | string[]; a repeated key is a client mistake, not something to guess at. */
export function singleValued(req: Request): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(req.query)) {
    if (typeof value !== 'string') throw new HttpError(400, 'bad_request', `query parameter "${key}" must be given once`);
    out[key] = value;
  }
  return out;
}

export const notFoundRoute: RequestHandler = (req, _res, next) => {
  next(new HttpError(404, 'not_found', `no route ${req.method} ${req.path}`));
};

/** Clients get a clear message; the log gets the details. Unknown errors never leak their text. */
export function errorMiddleware(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const http = toHttpError(err);
    if (http.status >= 500) logger.error({ err, path: req.path }, 'request failed');
    else logger.debug({ path: req.path, code: http.code, message: http.message }, 'request rejected');
    res.status(http.status).json({ error: { code: http.code, message: http.message } });
  };
}

function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  // body-parser errors carry a status and a type; map the ones a client can cause.
  const e = err as { status?: unknown; type?: unknown } | null;
  if (e && e.type === 'entity.too.large') return new HttpError(413, 'payload_too_large', 'request body too large', { cause: err });
  if (e && typeof e.status === 'number' && e.status >= 400 && e.status < 500)
    return new HttpError(400, 'bad_request', 'malformed request', { cause: err });
  return new HttpError(500, 'internal', 'internal error', { cause: err });
}
